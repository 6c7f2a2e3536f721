/**
 * A small local stand-in for API Gateway's HTTP API: turns Node HTTP requests into payload
 * format 2.0 events for the same Lambda handler, and its results back into responses.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { consoleFileFor, serveConsoleFile } from './static-files.js';

export type HttpApiHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyResultV2>;

/** API Gateway refuses larger payloads before the Lambda sees them. */
const GATEWAY_MAX_BODY = 10 * 1024 * 1024;

const lambdaContext = (requestId: string): Context => ({
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'local-api',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:local-api',
  memoryLimitInMB: '512',
  awsRequestId: requestId,
  logGroupName: 'local',
  logStreamName: 'local',
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
});

/** Builds the payload 2.0 event API Gateway would send for this request. */
export function toHttpApiEvent(request: IncomingMessage, body: Buffer): APIGatewayProxyEventV2 {
  // Appended, not resolved: `//meter-types` is a path (API Gateway's 404), not a host.
  const target = request.url ?? '/';
  const url = new URL(target.startsWith('/') ? `http://localhost${target}` : target);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined)
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = query[name] === undefined ? value : `${query[name]},${value}`;
  }
  const method = (request.method ?? 'GET').toUpperCase();
  const requestId = randomUUID();
  const now = new Date();
  const textual = body.length === 0 || isUtf8(body);
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.keys(query).length ? query : undefined,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? 'localhost',
      domainPrefix: 'local',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: body.length ? (textual ? body.toString('utf8') : body.toString('base64')) : undefined,
    isBase64Encoded: !textual,
  };
}

function isUtf8(buffer: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buffer);
    return true;
  } catch {
    return false;
  }
}

function send(response: ServerResponse, result: APIGatewayProxyResultV2): void {
  if (typeof result === 'string') {
    response.writeHead(200, { 'content-type': 'application/json' }).end(result);
    return;
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  const body = result.body
    ? Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8')
    : undefined;
  response.writeHead(result.statusCode ?? 200, headers).end(body);
}

/** Serves `handler` on host:port; resolves once listening. */
export async function startHttpGateway(options: {
  handler: HttpApiHandler;
  port: number;
  host?: string;
  onError?: (error: unknown) => void;
  /** A built web console to serve at `/` and `/console/*` (never under the API's paths). */
  consoleDir?: string;
}): Promise<{ server: Server; url: string; stop(): Promise<void> }> {
  const server = createServer((request, response) => {
    const consoleFile = options.consoleDir && consoleFileFor(request.method, request.url);
    if (options.consoleDir && consoleFile) {
      void serveConsoleFile(options.consoleDir, consoleFile, request, response);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= GATEWAY_MAX_BODY) chunks.push(chunk);
    });
    request.on('end', () => {
      if (size > GATEWAY_MAX_BODY) {
        send(response, {
          statusCode: 413,
          headers: { 'content-type': 'application/json' },
          body: '{"message":"Request Entity Too Large"}',
        });
        return;
      }
      const event = toHttpApiEvent(request, Buffer.concat(chunks));
      options
        .handler(event, lambdaContext(event.requestContext.requestId))
        .then((result) => send(response, result))
        .catch((error: unknown) => {
          options.onError?.(error);
          send(response, {
            statusCode: 500,
            headers: { 'content-type': 'application/json' },
            body: '{"message":"Internal Server Error"}',
          });
        });
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    server,
    url: `http://${host}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
