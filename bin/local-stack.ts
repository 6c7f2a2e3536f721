/**
 * `npm start`: runs the whole service locally, with the web console at `/`. Options:
 * `--persist DIR` keeps data across restarts; `--streams FILE` declares the streams (a JSON array
 * of stream configurations; each seeds its stream's processor once, after which the API owns it);
 * `--console-dev` rebuilds the console on every change and reloads the open page
 * (`npm run console:dev`); `PORT` sets the API port (default 3000). Ctrl-C or SIGTERM stops
 * everything.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildConsole, DEFAULT_CONSOLE_DIR, watchConsole } from '../console/tools/build-console.js';
import { InvalidStreamsConfigError, parseStreamsConfig } from '../shared/config/streams.js';
import { startLocalStack } from '../shared/local/local-stack.js';

const { values } = parseArgs({
  options: {
    persist: { type: 'string' },
    streams: { type: 'string' },
    'console-dev': { type: 'boolean' },
  },
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
// Built at every start: a fresh clone never serves a missing or stale console.
const consoleWatch = values['console-dev']
  ? await watchConsole(
      DEFAULT_CONSOLE_DIR,
      portFrom('CONSOLE_LIVE_PORT', 3001),
      `http://127.0.0.1:${port}`,
    )
  : undefined;
if (!consoleWatch) await buildConsole(DEFAULT_CONSOLE_DIR);
const stack = await startLocalStack({
  consoleDir: DEFAULT_CONSOLE_DIR,
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
    `  Console:    ${stack.consoleUrl}${consoleWatch ? '   (dev mode: rebuilds and reloads on change)' : ''}`,
    `  API:        ${api}`,
    `  Kinesis:    ${stack.kinesisEndpoint}   streams: ${stack.streamNames.join(', ')}`,
    `  DynamoDB:   ${stack.dynamoDbEndpoint}   (${values.persist ? `data kept in ${values.persist}` : 'in memory'})`,
    `  Records to: ${stack.recordsFile}`,
    '',
    '1. create a meter type that resets every minute:',
    `   curl -s -X POST ${api}/meter-types -H 'content-type: application/json' -d '{"name":"api-calls","unit":"calls","aggregation":{"type":"sum"},"resetSchedule":{"minute":"*","hour":"*","day":"*","month":"*","weekday":"*"}}'`,
    '2. create a meter for a customer (use the id printed above):',
    `   curl -s -X POST ${api}/meters -H 'content-type: application/json' -d '{"meterKey":"${stream}","meterTypeId":"<id>","userId":"alice"}'`,
    '3. put a usage record on the stream (AWS CLI version 1 or 2):',
    `   printf '%s' '{"userId":"alice","value":3}' > record.json`,
    `   AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local aws kinesis put-record --endpoint-url ${stack.kinesisEndpoint} --region us-east-1 \\`,
    `     --stream-name ${stream} --partition-key alice --data fileb://record.json`,
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
  await consoleWatch?.stop();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
