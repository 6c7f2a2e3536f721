/**
 * Sign-in in the console (authorization code + PKCE) against a fake authorization server on
 * 127.0.0.1, with the console served by the local gateway beside a config.json that points at
 * it, under the same Content-Security-Policy as CloudFront's (a violation fails the test).
 */
import type { Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentSecurityPolicy } from '../../shared/http/content-security-policy.js';
import { type ConsoleHarness, seriousViolations, startConsoleHarness } from '../support/browser.js';
import {
  type FakeAuthorizationServer,
  startFakeAuthorizationServer,
} from '../support/fake-authorization-server.js';

describe('console sign-in', () => {
  let auth: FakeAuthorizationServer;
  let harness: ConsoleHarness;
  let page: Page;
  /** The Authorization header of every API request the page sends, in order. */
  const apiAuthorization: (string | undefined)[] = [];
  beforeAll(async () => {
    auth = await startFakeAuthorizationServer();
    harness = await startConsoleHarness({
      config: (consoleUrl) => ({
        apiBaseUrl: '',
        auth: {
          authority: auth.url,
          clientId: auth.clientId,
          scopes: 'openid email usage-metering/read',
          redirectUri: consoleUrl,
        },
      }),
    });
    page = harness.page;
    page.on('request', (request: Request) => {
      if (request.url().includes('/usage-metering/v1/'))
        apiAuthorization.push(request.headers().authorization);
    });
  }, 90_000);
  afterAll(async () => {
    expect(harness?.pageErrors ?? []).toEqual([]);
    await harness?.stop();
    await auth?.stop();
  });

  const lastToken = () => auth.tokenAnswers.at(-1)?.accessToken;
  // Strings: the tests' TypeScript has no DOM types.
  const storage = () =>
    page.evaluate('({ session: Object.keys(sessionStorage), local: Object.keys(localStorage) })');

  it('serves config.json and the CloudFront CSP with the sign-in origin in connect-src', async () => {
    const index = await fetch(harness.url(''));
    expect(index.headers.get('content-security-policy')).toBe(contentSecurityPolicy([auth.url]));
    const config = await fetch(harness.url('config.json'));
    expect(config.headers.get('content-type')).toContain('application/json');
    expect(((await config.json()) as { auth: { authority: string } }).auth.authority).toBe(
      auth.url,
    );
  });

  it('redirects to the authorization endpoint with PKCE, exchanges the code and calls the API with the token', async () => {
    await page.goto(harness.url('#/meters'));
    await page.getByRole('heading', { level: 1, name: 'Meters' }).waitFor();
    await page.getByText('Signed in as ada@example.com').waitFor();

    expect(auth.authorizeRequests).toHaveLength(1);
    const authorize = auth.authorizeRequests[0] as URLSearchParams;
    expect(Object.fromEntries(authorize)).toMatchObject({
      response_type: 'code',
      client_id: auth.clientId,
      redirect_uri: harness.url(''),
      scope: 'openid email usage-metering/read',
      code_challenge_method: 'S256',
    });
    expect(authorize.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The server checked the verifier against the challenge before it answered 200.
    expect(auth.tokenRequests.map((r) => r.get('grant_type'))).toEqual(['authorization_code']);
    expect(auth.tokenAnswers.map((a) => a.status)).toEqual([200]);
    expect(auth.tokenRequests[0]?.get('code_verifier')).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // The code left the address bar; the route asked for came back.
    expect(page.url()).toBe(harness.url('#/meters'));
    expect(apiAuthorization.length).toBeGreaterThan(0);
    expect(new Set(apiAuthorization)).toEqual(new Set([`Bearer ${lastToken()}`]));
    expect(await storage()).toEqual({ session: ['usage-metering.tokens'], local: [] });
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('reports what the CSP blocks as a page error (the listener every console test relies on)', async () => {
    await page.evaluate(`{
      const script = document.createElement('script');
      script.textContent = 'window.inlineRan = true';
      document.body.append(script);
    }`);
    await expect.poll(() => harness.pageErrors.join()).toContain('CSP script-src');
    expect(await page.evaluate('window.inlineRan')).toBeUndefined();
    harness.pageErrors.length = 0;
  });

  it('refreshes an expired access token before calling the API', async () => {
    const before = lastToken();
    await page.goto(harness.url('#/meter-types'));
    await page.waitForLoadState('networkidle');
    await page.evaluate(`{
      const tokens = JSON.parse(sessionStorage.getItem('usage-metering.tokens'));
      sessionStorage.setItem('usage-metering.tokens', JSON.stringify({ ...tokens, expiresAt: 0 }));
    }`);
    apiAuthorization.length = 0;
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Meter types' }).waitFor();
    await page.waitForLoadState('networkidle');
    expect(auth.tokenRequests.map((r) => r.get('grant_type'))).toEqual([
      'authorization_code',
      'refresh_token',
    ]);
    expect(lastToken()).not.toBe(before);
    expect(new Set(apiAuthorization)).toEqual(new Set([`Bearer ${lastToken()}`]));
    expect(auth.authorizeRequests).toHaveLength(1);
  });

  it('refreshes the token and retries once when the API answers 401', async () => {
    const before = lastToken();
    let refused = false;
    const meters = (url: URL) => url.pathname.endsWith('/usage-metering/v1/meters');
    await page.route(meters, async (route) => {
      if (refused) return route.continue();
      refused = true;
      await route.fulfill({ status: 401, json: { message: 'Unauthorized' } });
    });
    apiAuthorization.length = 0;
    const answered = page.waitForResponse(
      (response) => meters(new URL(response.url())) && response.status() === 200,
    );
    await page.goto(harness.url('#/meters'));
    await page.getByRole('heading', { level: 1, name: 'Meters' }).waitFor();
    await answered;
    await page.unrouteAll();
    expect(refused).toBe(true);
    expect(auth.tokenRequests.at(-1)?.get('grant_type')).toBe('refresh_token');
    expect(lastToken()).not.toBe(before);
    expect(apiAuthorization[0]).toBe(`Bearer ${before}`);
    expect(apiAuthorization.at(-1)).toBe(`Bearer ${lastToken()}`);
    expect(await page.getByRole('alert').count()).toBe(0);
  });

  it('refuses an authorization answer whose state it did not send', async () => {
    const other = await harness.browser.newPage();
    const errors: string[] = [];
    other.on('pageerror', (error) => errors.push(String(error)));
    const tokenRequests = auth.tokenRequests.length;
    await other.goto(`${harness.url('')}?code=stolen-code&state=forged#/`);
    await other.getByRole('heading', { level: 1, name: 'Sign-in failed' }).waitFor();
    expect(await other.getByRole('alert').textContent()).toContain('does not match');
    expect(auth.tokenRequests).toHaveLength(tokenRequests);
    expect(other.url()).not.toContain('stolen-code');
    expect(errors).toEqual([]);
    await other.close();
  });

  it('signs out at the logout endpoint, forgetting the tokens, and signs in again', async () => {
    const authorizations = auth.authorizeRequests.length;
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.search === '' && url.href.startsWith(harness.url('')));
    await page.getByText('Signed in as ada@example.com').waitFor();
    expect(auth.logoutRequests.map((r) => Object.fromEntries(r))).toEqual([
      { client_id: auth.clientId, logout_uri: harness.url('') },
    ]);
    // Back from the logout, the console had no tokens and started a new sign-in.
    expect(auth.authorizeRequests).toHaveLength(authorizations + 1);
    expect(auth.tokenRequests.at(-1)?.get('grant_type')).toBe('authorization_code');
  });
});
