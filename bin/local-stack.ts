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
import { startFailure, startLocalStack } from '../shared/local/local-stack.js';

// On Node 20 the AWS SDK prints a multi-line note (it needs Node 22 from 2027) in the middle of
// this program's output; the README says it once instead.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

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
const consoleLivePort = values['console-dev'] ? portFrom('CONSOLE_LIVE_PORT', 3001) : undefined;
const ports = { PORT: port, KINESIS_PORT: kinesisPort, CONSOLE_LIVE_PORT: consoleLivePort ?? 0 };
// 0 asks the system for a free port; any other port may serve one setting only.
const settingOf = new Map<number, string>();
for (const [name, value] of Object.entries(ports)) {
  const other = settingOf.get(value);
  if (other !== undefined && value !== 0) {
    console.error(`${other} and ${name} must be different ports`);
    process.exit(2);
  }
  settingOf.set(value, name);
}

/** Says why the start failed (which setting names a busy port), stops what started, exits 1. */
async function failedStart(error: unknown, watch?: { stop(): Promise<void> }): Promise<never> {
  console.error(startFailure(error, ports));
  await watch?.stop();
  process.exit(1);
}

const started = Date.now();
// Built at every start: a fresh clone never serves a missing or stale console.
const consoleWatch =
  consoleLivePort === undefined
    ? undefined
    : await watchConsole(DEFAULT_CONSOLE_DIR, consoleLivePort, `http://127.0.0.1:${port}`).catch(
        (error: unknown) => failedStart(error),
      );
if (!consoleWatch) await buildConsole(DEFAULT_CONSOLE_DIR);
const stack = await startLocalStack({
  consoleDir: DEFAULT_CONSOLE_DIR,
  port,
  kinesisPort,
  persistDir: values.persist,
  streams,
  recordsFile: process.env.RECORDS_FILE,
  log: (line) => console.log(`${new Date().toISOString()}  ${line}`),
}).catch((error: unknown) => failedStart(error, consoleWatch)); // what had started is stopped
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
    "The README's tour, in short:",
    '1. create a meter type that resets every minute:',
    `   curl -s -X POST ${api}/meter-types -H 'content-type: application/json' -d '{"name":"api-calls","externalRef":"sku-api-calls","unit":"calls","aggregation":{"type":"sum"},"resetSchedule":{"minute":"*","hour":"*","day":"*","month":"*","weekday":"*"}}'`,
    '2. create a meter of that type for a customer:',
    `   curl -s -X POST ${api}/meters -H 'content-type: application/json' -d '{"meterKey":"${stream}","meterTypeExternalRef":"sku-api-calls","userId":"alice"}'`,
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
