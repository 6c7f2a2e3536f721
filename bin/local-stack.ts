/**
 * `npm start`: runs the whole service locally. Options: `--persist DIR` keeps data across
 * restarts; `--streams FILE` declares the streams (a JSON array of stream configurations; each
 * seeds its stream's processor once, after which the API owns it); `PORT` sets the API port
 * (default 3000). Ctrl-C or SIGTERM stops everything.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { InvalidStreamsConfigError, parseStreamsConfig } from '../shared/config/streams.js';
import { startLocalStack } from '../shared/local/local-stack.js';

const { values } = parseArgs({
  options: { persist: { type: 'string' }, streams: { type: 'string' } },
  strict: true,
});

/** The streams of `--streams FILE`, validated; a clear message and exit 2 when it is bad. */
function streamsFrom(file: string | undefined) {
  if (file === undefined) return undefined;
  try {
    return parseStreamsConfig(readFileSync(file, 'utf8'));
  } catch (error) {
    const reason =
      error instanceof InvalidStreamsConfigError
        ? error.message
        : `cannot read it (${(error as Error).message})`;
    console.error(`--streams ${file}: ${reason}`);
    process.exit(2);
  }
}
const streams = streamsFrom(values.streams);
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
const stack = await startLocalStack({
  port,
  kinesisPort,
  persistDir: values.persist,
  streams,
  recordsFile: process.env.RECORDS_FILE,
  log: (line) => console.log(`${new Date().toISOString()}  ${line}`),
});
const api = stack.apiUrl;
const stream = stack.streamNames[0] ?? 'usage-events';
console.log(
  [
    '',
    `usage metering is running locally (started in ${((Date.now() - started) / 1000).toFixed(1)} s)`,
    `  API:        ${api}`,
    `  Kinesis:    ${stack.kinesisEndpoint}   streams: ${stack.streamNames.join(', ')}`,
    `  DynamoDB:   ${stack.dynamoDbEndpoint}   (${values.persist ? `data kept in ${values.persist}` : 'in memory'})`,
    `  Records to: ${stack.recordsFile}`,
    '',
    '1. create a meter type that resets every minute:',
    `   curl -s -X POST ${api}/meter-types -H 'content-type: application/json' -d '{"name":"api-calls","unit":"calls","aggregation":{"type":"sum"},"resetSchedule":{"minute":"*","hour":"*","day":"*","month":"*","weekday":"*"}}'`,
    '2. create a meter for a customer (use the id printed above):',
    `   curl -s -X POST ${api}/meters -H 'content-type: application/json' -d '{"meterKey":"${stream}","meterTypeId":"<id>","userId":"alice"}'`,
    '3. put a usage record on the stream:',
    `   AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws kinesis put-record --endpoint-url ${stack.kinesisEndpoint} --region us-east-1 \\`,
    `     --stream-name ${stream} --partition-key alice --cli-binary-format raw-in-base64-out --data '{"userId":"alice","value":3}'`,
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
