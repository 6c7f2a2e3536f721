/**
 * A fake OAuth 2.0 authorization server on 127.0.0.1 for the console's sign-in test, shaped
 * like Cognito's: OIDC discovery, /oauth2/authorize (approves at once, redirecting back with a
 * code), /oauth2/token (authorization_code with the PKCE verifier checked against the
 * challenge, and refresh_token), /logout. It records every request it is sent.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface FakeAuthorizationServer {
  url: string;
  clientId: string;
  authorizeRequests: URLSearchParams[];
  tokenRequests: URLSearchParams[];
  /** Answers of the token endpoint, in order (status and error when refused). */
  tokenAnswers: { status: number; accessToken?: string; error?: string }[];
  logoutRequests: URLSearchParams[];
  stop(): Promise<void>;
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');
/** An unsigned JWT: the console only reads its claims; the API is not involved here. */
const jwt = (claims: object) => `${b64url('{"alg":"none"}')}.${b64url(JSON.stringify(claims))}.x`;

function json(response: ServerResponse, status: number, body: object): void {
  response
    .writeHead(status, {
      'content-type': 'application/json',
      'access-control-allow-origin': '*',
      'cache-control': 'no-store',
    })
    .end(JSON.stringify(body));
}

async function form(request: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function startFakeAuthorizationServer(): Promise<FakeAuthorizationServer> {
  const clientId = 'console-client';
  const codes = new Map<string, { challenge: string; redirectUri: string }>();
  const refreshTokens = new Set<string>();
  let issued = 0;
  const state: Omit<FakeAuthorizationServer, 'url' | 'stop'> = {
    clientId,
    authorizeRequests: [],
    tokenRequests: [],
    tokenAnswers: [],
    logoutRequests: [],
  };
  const tokens = (refreshToken?: string) => {
    issued += 1;
    const accessToken = jwt({ sub: 'user-1', username: 'ada', token_use: 'access', n: issued });
    const body: Record<string, unknown> = {
      access_token: accessToken,
      id_token: jwt({ sub: 'user-1', email: 'ada@example.com', token_use: 'id' }),
      token_type: 'Bearer',
      expires_in: 3600,
    };
    if (!refreshToken) {
      const fresh = `refresh-${randomUUID()}`;
      refreshTokens.add(fresh);
      body.refresh_token = fresh;
    }
    state.tokenAnswers.push({ status: 200, accessToken });
    return body;
  };
  const refuse = (response: ServerResponse, error: string) => {
    state.tokenAnswers.push({ status: 400, error });
    json(response, 400, { error });
  };

  const token = (response: ServerResponse, params: URLSearchParams) => {
    if (params.get('client_id') !== clientId) return refuse(response, 'invalid_client');
    if (params.get('grant_type') === 'refresh_token') {
      const refreshToken = params.get('refresh_token') ?? '';
      if (!refreshTokens.has(refreshToken)) return refuse(response, 'invalid_grant');
      return json(response, 200, tokens(refreshToken));
    }
    const grant = codes.get(params.get('code') ?? '');
    codes.delete(params.get('code') ?? '');
    const verifier = params.get('code_verifier') ?? '';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    if (params.get('grant_type') !== 'authorization_code' || !grant)
      return refuse(response, 'invalid_grant');
    if (grant.challenge !== challenge || grant.redirectUri !== params.get('redirect_uri'))
      return refuse(response, 'invalid_grant');
    json(response, 200, tokens());
  };

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', base);
    if (url.pathname === '/.well-known/openid-configuration') {
      json(response, 200, {
        issuer: base,
        authorization_endpoint: `${base}/oauth2/authorize`,
        token_endpoint: `${base}/oauth2/token`,
      });
    } else if (url.pathname === '/oauth2/authorize') {
      const params = url.searchParams;
      state.authorizeRequests.push(params);
      const redirectUri = params.get('redirect_uri') ?? '';
      const valid =
        params.get('client_id') === clientId &&
        params.get('response_type') === 'code' &&
        params.get('code_challenge_method') === 'S256' &&
        params.get('state') &&
        redirectUri;
      if (!valid) return json(response, 400, { error: 'invalid_request' });
      const code = randomUUID();
      codes.set(code, { challenge: params.get('code_challenge') ?? '', redirectUri });
      const back = new URL(redirectUri);
      back.searchParams.set('code', code);
      back.searchParams.set('state', params.get('state') ?? '');
      response.writeHead(302, { location: back.href }).end();
    } else if (url.pathname === '/oauth2/token' && request.method === 'POST') {
      void form(request).then((params) => {
        state.tokenRequests.push(params);
        token(response, params);
      });
    } else if (url.pathname === '/logout') {
      state.logoutRequests.push(url.searchParams);
      response.writeHead(302, { location: url.searchParams.get('logout_uri') ?? '/' }).end();
    } else {
      json(response, 404, { error: 'not_found' });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return {
    ...state,
    url: base,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
