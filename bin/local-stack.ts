/**
 * `npm start`: runs the whole service locally. Options: `--persist DIR` keeps data across
 * restarts; `PORT` sets the API port (default 3000). Ctrl-C or SIGTERM stops everything.
 */
import { parseArgs } from 'node:util';
import { startLocalStack } from '../shared/local/local-stack.js';

const { values } = parseArgs({ options: { persist: { type: 'string' } }, strict: true });
function portFrom(name: string, fallback: number): number {
  const port = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error(`${name} must be a port number, got '${process.env[name]}'`);
    process.exit(2);
  }
  return port;
}
const port = portFrom('PORT', 3000);
const kinesisPort = portFrom('KINESIS_PORT', 4567);

const started = Date.now();
const stack = await startLocalStack({ port, kinesisPort, persistDir: values.persist });
console.log(
  [
    '',
    `usage metering is running locally (started in ${((Date.now() - started) / 1000).toFixed(1)} s)`,
    `  API:       ${stack.apiUrl}`,
    `  DynamoDB:  ${stack.dynamoDbEndpoint}  (DynamoDB Local${values.persist ? `, data in ${values.persist}` : ', in memory'})`,
    `  Kinesis:   ${stack.kinesisEndpoint}  streams: ${stack.streamNames.join(', ')}`,
    '',
    'try:',
    `  curl -s -X POST ${stack.apiUrl}/meter-types -H 'content-type: application/json' \\`,
    `    -d '{"name":"voice-minutes","unit":"minutes","aggregation":{"type":"sum"},"resetSchedule":{"minute":"0","hour":"0","day":"1","month":"*","weekday":"*"},"timezone":"Europe/Stockholm"}'`,
    '',
    'Ctrl-C stops everything.',
  ].join('\n'),
);

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the local stack...`);
  await stack.stop();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
