/**
 * Runs one deployed Lambda bundle in this Node.js process and answers invocations sent over
 * IPC (see lambda-process.ts): `{ id, event, context, now }` → `{ id, ok, result | error }`.
 *
 * - The bundle path is the first argument; the environment is the function's.
 * - `now` sets the clock the bundle sees (Date and Date.now; time runs on from there), so a
 *   test can step through periods. Timers are not touched.
 * - Host names other than localhost do not resolve: a call that escapes the local endpoints
 *   fails at once instead of reaching the internet, and the host is reported with every
 *   result (`escaped`), so even a call whose error the code swallows is noticed.
 */
import dns from 'node:dns';

const RealDate = Date;
let offsetMs = 0;
class ClockDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + offsetMs);
    else super(...args);
  }
  static now() {
    return RealDate.now() + offsetMs;
  }
}
globalThis.Date = ClockDate;

/** Host names something in the bundle tried to reach: reported with every result. */
const escaped = new Set();
const lookup = dns.lookup;
dns.lookup = function localOnly(hostname, options, callback) {
  if (hostname === 'localhost' || hostname === '127.0.0.1' || hostname === '::1') {
    return lookup.call(this, hostname, options, callback);
  }
  escaped.add(hostname);
  const done = typeof options === 'function' ? options : callback;
  const error = Object.assign(new Error(`lambda-child: no DNS outside localhost (${hostname})`), {
    code: 'ENOTFOUND',
  });
  process.nextTick(() => done(error));
  return {};
};

const describeError = (error) =>
  error instanceof Error
    ? { name: error.name, message: error.message, stack: error.stack }
    : { name: 'NonError', message: String(error) };

const bundle = process.argv[2];
let handler;
try {
  ({ handler } = await import(bundle));
  if (typeof handler !== 'function') throw new Error(`${bundle} exports no handler function`);
} catch (error) {
  process.send?.({ type: 'failed', error: describeError(error) });
  process.exit(1);
}

process.on('message', async (message) => {
  if (message?.type !== 'invoke') return;
  const { id, event, context, now } = message;
  if (now) offsetMs = RealDate.parse(now) - RealDate.now();
  const started = RealDate.now();
  const timeoutMs = context?.timeoutMs ?? 30_000;
  const lambdaContext = {
    callbackWaitsForEmptyEventLoop: true,
    functionVersion: '$LATEST',
    memoryLimitInMB: '512',
    awsRequestId: `request-${id}`,
    logGroupName: `/aws/lambda/${context?.functionName ?? 'function'}`,
    logStreamName: 'local',
    ...context,
    getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (RealDate.now() - started)),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
  try {
    const result = await handler(event, lambdaContext);
    process.send?.({ type: 'result', id, ok: true, result: result ?? null, escaped: [...escaped] });
  } catch (error) {
    process.send?.({
      type: 'result',
      id,
      ok: false,
      error: describeError(error),
      escaped: [...escaped],
    });
  }
});

process.send?.({ type: 'ready' });
