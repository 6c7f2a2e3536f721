/**
 * Vitest setup file: every `fetch` a test makes to the API of a local stack (npm start, the
 * local gateway) is held to the OpenAPI document, like `apiUnderTest` answers are
 * (test/support/contract.ts). An answer that breaks it fails the test that fetched it.
 */
import { API_BASE_PATH } from '../../shared/http/route-specs.js';
import { assertContract } from './contract.js';

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const originalFetch = globalThis.fetch;

function requestOf(input: Parameters<typeof fetch>[0], init?: RequestInit) {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
  return { url, method: method.toUpperCase() };
}

globalThis.fetch = async (input, init) => {
  const response = await originalFetch(input, init);
  const { url, method } = requestOf(input, init);
  if (
    !LOCAL_HOSTS.has(url.hostname) ||
    !url.pathname.startsWith(`${API_BASE_PATH.split('/v')[0]}/`)
  ) {
    return response;
  }
  assertContract({
    method,
    path: url.pathname,
    status: response.status,
    headers: Object.fromEntries(response.headers),
    body: await response.clone().text(),
  });
  return response;
};
