/**
 * PKCE (RFC 7636) with WebCrypto: a random code verifier, its S256 challenge, and the random
 * `state` of an authorization request. Nothing here touches the page, so it runs in Node too.
 */

/** base64url without padding (RFC 7636 appendix A). */
export function base64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** `size` random bytes, base64url: 32 bytes give the 43 characters RFC 7636 recommends. */
export function randomToken(size = 32): string {
  return base64Url(crypto.getRandomValues(new Uint8Array(size)));
}

/** A fresh code verifier (43 characters of the unreserved set). */
export function codeVerifier(): string {
  return randomToken(32);
}

/** The S256 code challenge of a verifier: base64url(SHA-256(ASCII(verifier))). */
export async function codeChallenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64Url(new Uint8Array(digest));
}
