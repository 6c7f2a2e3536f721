/**
 * Serves the built web console beside the API on the local HTTP gateway: `GET /` is its
 * index.html and `GET /console/<file>` its assets. Nothing else is served from disk, so no
 * API route (all under the API base path) can be shadowed.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  map: 'application/json',
  png: 'image/png',
  svg: 'image/svg+xml',
};

/** The file a request asks for, or undefined when it is not a console path. */
export function consoleFileFor(
  method: string | undefined,
  url: string | undefined,
): string | undefined {
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  const path = new URL(url ?? '/', 'http://localhost').pathname;
  if (path === '/' || path === '/index.html') return 'index.html';
  const asset = /^\/console\/([A-Za-z0-9_-][A-Za-z0-9._-]*)$/.exec(path);
  return asset?.[1];
}

/** Answers a console request from `dir`; 404 when the file is not there. */
export async function serveConsoleFile(
  dir: string,
  file: string,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const extension = file.split('.').pop() ?? '';
  try {
    const body = await readFile(join(dir, file));
    response.writeHead(200, {
      'content-type': CONTENT_TYPES[extension] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    response.end(request.method === 'HEAD' ? undefined : body);
  } catch {
    response.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}');
  }
}
