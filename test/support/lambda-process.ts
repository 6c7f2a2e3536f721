/**
 * A Lambda bundle kept alive in a child Node.js process (lambda-child.mjs), invoked over IPC
 * like the Lambda runtime would: one invocation at a time, same process between invocations
 * (module state, clients and caches are reused as in a warm Lambda).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./lambda-child.mjs', import.meta.url));

export interface LambdaContextFields {
  functionName?: string;
  invokedFunctionArn?: string;
  /** How long the invocation may take (getRemainingTimeInMillis). @default 30 s */
  timeoutMs?: number;
  [field: string]: unknown;
}

export interface InvokeOptions {
  context?: LambdaContextFields;
  /** The time the bundle sees from this invocation on (ISO 8601); time runs on from there. */
  now?: string;
}

/** An invocation that threw: the error as the handler raised it. */
export class LambdaInvocationError extends Error {
  override readonly name = 'LambdaInvocationError';
}

export interface LambdaProcess {
  invoke<T = unknown>(event: unknown, options?: InvokeOptions): Promise<T>;
  /** What the function printed so far (logs), the last 200 KB. */
  output(): string;
  /** Host names the function tried to reach other than localhost (none resolve). */
  escapedHosts(): string[];
  stop(): Promise<void>;
}

type Reply =
  | { type: 'ready' }
  | { type: 'failed'; error: { name: string; message: string; stack?: string } }
  | {
      type: 'result';
      id: number;
      ok: boolean;
      result?: unknown;
      error?: { name: string; message: string; stack?: string };
      escaped?: string[];
    };

/** Starts `node lambda-child.mjs <bundle>` with exactly `env` and waits until it has loaded. */
export async function startLambdaProcess(
  bundle: string,
  env: Record<string, string>,
): Promise<LambdaProcess> {
  const child: ChildProcess = fork(CHILD, [bundle], {
    env: { PATH: process.env.PATH ?? '', ...env },
    // Not the test runner's loaders: the bundle is plain ESM.
    execArgv: ['--enable-source-maps'],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-200_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const onMessage = (message: Reply) => {
      if (message.type === 'ready') {
        child.off('message', onMessage);
        resolve();
      } else if (message.type === 'failed') {
        reject(
          new Error(`${bundle} did not load: ${message.error.stack ?? message.error.message}`),
        );
      }
    };
    child.on('message', onMessage);
    child.once('exit', (code) =>
      reject(new Error(`${bundle} exited (${code}) while loading:\n${output}`)),
    );
  });
  let escaped: string[] = [];
  child.on('message', (message: Reply) => {
    if (message.type !== 'result') return;
    escaped = message.escaped ?? escaped;
    const waiting = pending.get(message.id);
    if (!waiting) return;
    pending.delete(message.id);
    if (message.ok) waiting.resolve(message.result);
    else {
      const error = new LambdaInvocationError(
        `${message.error?.name}: ${message.error?.message}\n${message.error?.stack ?? ''}`,
      );
      waiting.reject(error);
    }
  });
  child.once('exit', (code) => {
    for (const waiting of pending.values()) {
      waiting.reject(new Error(`${bundle} exited (${code}) during an invocation:\n${output}`));
    }
    pending.clear();
  });

  let nextId = 1;
  return {
    invoke: <T>(event: unknown, options: InvokeOptions = {}) =>
      new Promise<T>((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.send({ type: 'invoke', id, event, context: options.context, now: options.now });
      }),
    output: () => output,
    escapedHosts: () => [...escaped],
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}
