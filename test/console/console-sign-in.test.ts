/** The console's PKCE pieces (RFC 7636) and its reading of config.json, without a browser. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../console/src/auth/config.js';
import { base64Url, codeChallenge, codeVerifier } from '../../console/src/auth/pkce.js';

describe('PKCE', () => {
  it('computes the S256 challenge of RFC 7636 appendix B', async () => {
    const bytes = [
      116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37, 77,
      105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
    ];
    const verifier = base64Url(Uint8Array.from(bytes));
    expect(verifier).toBe('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');
    expect(await codeChallenge(verifier)).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('makes a fresh 43-character verifier of the unreserved set each time', () => {
    const verifiers = new Set(Array.from({ length: 20 }, codeVerifier));
    expect(verifiers.size).toBe(20);
    for (const verifier of verifiers) expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('config.json', () => {
  const auth = {
    authority: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC',
    clientId: 'client',
    scopes: 'openid usage-metering/read',
    redirectUri: 'https://d1.cloudfront.net/',
  };

  it('reads the deployment’s shape, trimming a trailing slash of apiBaseUrl', () => {
    expect(parseConfig({ apiBaseUrl: '', auth })).toEqual({ apiBaseUrl: '', auth });
    expect(parseConfig({ apiBaseUrl: 'https://api.example/' })).toEqual({
      apiBaseUrl: 'https://api.example',
    });
  });

  it('takes anything else for no config', () => {
    for (const body of [null, 'text', 7, { apiBaseUrl: 3 }, { auth: { ...auth, clientId: '' } }])
      expect(parseConfig(body)).toBeUndefined();
  });
});
