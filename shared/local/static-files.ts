/**
 * Serves the built web console beside the API on the local HTTP gateway: `GET /` is its
 * index.html, `GET /console/<file>` its assets and `GET /config.json` the folder's config.json
 * when there is one (as the deployment writes it; none by default: no sign-in). Nothing else
 * is served from disk, so no API route (all under the API base path) can be shadowed. Every
 * answer carries the Content-Security-Policy CloudFront sends, with the config's sign-in
 * origin in `connect-src`.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { contentSecurityPolicy } from '../http/content-security-policy.js';

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  map: 'application/json',
  json: 'application/json',
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
  if (path === '/config.json') return 'config.json';
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
      'content-security-policy': contentSecurityPolicy(await signInOrigins(dir)),
    });
    response.end(request.method === 'HEAD' ? undefined : body);
  } catch {
    response.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}');
  }
}

/** The origin of config.json's sign-in authority, which the console fetches (none without). */
export async function signInOrigins(dir: string): Promise<string[]> {
  try {
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as {
      auth?: { authority?: unknown };
    };
    const authority = config.auth?.authority;
    return typeof authority === 'string' ? [new URL(authority).origin] : [];
  } catch {
    return [];
  }
}
