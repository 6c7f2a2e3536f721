/**
 * Sign-in with the OAuth 2.0 authorization-code flow and PKCE against the config's authority
 * (Cognito's hosted UI when deployed): redirect to the authorization endpoint, check `state` on
 * the way back, exchange the code with the verifier, keep the tokens in sessionStorage (gone
 * with the tab), refresh the access token when it expires or the API answers 401, and sign out
 * at the authority's logout endpoint.
 */
import type { AuthConfig } from './config.js';
import { codeChallenge, codeVerifier, randomToken } from './pkce.js';

const TOKENS_KEY = 'usage-metering.tokens';
const PENDING_KEY = 'usage-metering.sign-in';
/** Refresh this long before the access token's expiry. */
const EARLY_MS = 30_000;

interface Endpoints {
  authorize: string;
  token: string;
  logout: string;
}

interface Tokens {
  accessToken: string;
  idToken?: string;
  refreshToken?: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

interface Pending {
  state: string;
  verifier: string;
  /** The hash route to return to. */
  hash: string;
}

/** A sign-in that cannot go on (a forged or stale answer, a refused code). */
export class SignInError extends Error {
  override name = 'SignInError';
}

/** The endpoints from the authority's OIDC discovery document. */
export async function discover(authority: string): Promise<Endpoints> {
  const response = await fetch(`${authority.replace(/\/+$/, '')}/.well-known/openid-configuration`);
  if (!response.ok) throw new SignInError(`sign-in discovery failed: HTTP ${response.status}`);
  const document = (await response.json()) as Record<string, unknown>;
  const authorize = document.authorization_endpoint;
  const token = document.token_endpoint;
  if (typeof authorize !== 'string' || typeof token !== 'string')
    throw new SignInError('sign-in discovery names no authorization or token endpoint');
  // Cognito names no end_session_endpoint; its logout is /logout on the hosted-UI domain.
  const logout =
    typeof document.end_session_endpoint === 'string'
      ? document.end_session_endpoint
      : new URL('/logout', authorize).href;
  return { authorize, token, logout };
}

const read = <T>(key: string): T | undefined => {
  try {
    const text = sessionStorage.getItem(key);
    return text ? (JSON.parse(text) as T) : undefined;
  } catch {
    return undefined;
  }
};

async function tokenRequest(
  endpoint: string,
  form: Record<string, string>,
  previous?: Tokens,
): Promise<Tokens> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
  if (!response.ok || typeof body.access_token !== 'string') {
    const reason = typeof body.error === 'string' ? body.error : `HTTP ${response.status}`;
    throw new SignInError(`the token endpoint refused: ${reason}`);
  }
  const tokens: Tokens = {
    accessToken: body.access_token,
    idToken: typeof body.id_token === 'string' ? body.id_token : previous?.idToken,
    // A refresh answer carries no new refresh token (Cognito): keep the one we have.
    refreshToken:
      typeof body.refresh_token === 'string' ? body.refresh_token : previous?.refreshToken,
    expiresAt: Date.now() + (typeof body.expires_in === 'number' ? body.expires_in : 3600) * 1000,
  };
  sessionStorage.setItem(TOKENS_KEY, JSON.stringify(tokens));
  return tokens;
}

/** The claims of a JWT, unverified (only to show who is signed in; the API verifies). */
export function claimsOf(jwt: string | undefined): Record<string, unknown> {
  const payload = jwt?.split('.')[1];
  if (!payload) return {};
  try {
    const binary = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** A signed-in person: a fresh access token on demand, their name, and sign-out. */
export class Session {
  #refreshing: Promise<string> | undefined;

  constructor(
    private readonly auth: AuthConfig,
    private readonly endpoints: Endpoints,
    private tokens: Tokens,
  ) {}

  /** Who is signed in: e-mail, else user name, else subject. */
  get user(): string {
    const claims = { ...claimsOf(this.tokens.accessToken), ...claimsOf(this.tokens.idToken) };
    const name = claims.email ?? claims.username ?? claims['cognito:username'] ?? claims.sub;
    return typeof name === 'string' ? name : 'signed in';
  }

  /** The access token, refreshed first when it has (nearly) expired. */
  async accessToken(): Promise<string> {
    if (this.tokens.expiresAt - EARLY_MS > Date.now()) return this.tokens.accessToken;
    return this.refresh();
  }

  /** A new access token from the refresh token (one request at a time); sign-in again without one. */
  refresh(): Promise<string> {
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #refresh(): Promise<string> {
    const refreshToken = this.tokens.refreshToken;
    if (refreshToken) {
      try {
        const form = {
          grant_type: 'refresh_token',
          client_id: this.auth.clientId,
          refresh_token: refreshToken,
        };
        this.tokens = await tokenRequest(this.endpoints.token, form, this.tokens);
        return this.tokens.accessToken;
      } catch {
        // Expired or revoked: sign in again below.
      }
    }
    sessionStorage.removeItem(TOKENS_KEY);
    await redirectToSignIn(this.auth, this.endpoints);
    return new Promise<string>(() => undefined); // the page is leaving
  }

  /** Forgets the tokens and ends the authority's session, which sends the browser back here. */
  signOut(): void {
    sessionStorage.removeItem(TOKENS_KEY);
    const url = new URL(this.endpoints.logout);
    url.searchParams.set('client_id', this.auth.clientId);
    url.searchParams.set('logout_uri', this.auth.redirectUri);
    location.assign(url.href);
  }
}

/** Sends the browser to the authorization endpoint with a fresh state and PKCE challenge. */
export async function redirectToSignIn(auth: AuthConfig, endpoints: Endpoints): Promise<void> {
  const pending: Pending = { state: randomToken(), verifier: codeVerifier(), hash: location.hash };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  const url = new URL(endpoints.authorize);
  const query = {
    response_type: 'code',
    client_id: auth.clientId,
    redirect_uri: auth.redirectUri,
    scope: auth.scopes,
    state: pending.state,
    code_challenge: await codeChallenge(pending.verifier),
    code_challenge_method: 'S256',
  };
  for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);
  location.assign(url.href);
}

/** The authorization answer in the page's URL: checks state and exchanges the code. */
async function completeSignIn(
  auth: AuthConfig,
  endpoints: Endpoints,
  params: URLSearchParams,
): Promise<Tokens> {
  const pending = read<Pending>(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  // The code leaves the address bar (and history) whatever happens next.
  history.replaceState(null, '', `${location.pathname}${pending?.hash ?? ''}`);
  if (!pending || params.get('state') !== pending.state)
    throw new SignInError('the sign-in answer does not match a sign-in started here');
  const error = params.get('error');
  if (error) throw new SignInError(`sign-in refused: ${params.get('error_description') ?? error}`);
  return tokenRequest(endpoints.token, {
    grant_type: 'authorization_code',
    client_id: auth.clientId,
    code: params.get('code') ?? '',
    redirect_uri: auth.redirectUri,
    code_verifier: pending.verifier,
  });
}

/**
 * The session of this tab: completes a sign-in the URL answers, resumes the stored one, or
 * starts a sign-in (then resolves to undefined while the browser leaves).
 */
export async function startSession(auth: AuthConfig): Promise<Session | undefined> {
  const endpoints = await discover(auth.authority);
  const params = new URLSearchParams(location.search);
  if (params.has('code') || params.has('error')) {
    return new Session(auth, endpoints, await completeSignIn(auth, endpoints, params));
  }
  const tokens = read<Tokens>(TOKENS_KEY);
  if (tokens?.accessToken) return new Session(auth, endpoints, tokens);
  await redirectToSignIn(auth, endpoints);
  return undefined;
}
