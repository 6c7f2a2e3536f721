/**
 * The console's Content-Security-Policy, one string for both places that serve the console:
 * CloudFront (lib/constructs/console-hosting.ts) and the local gateway (shared/local), so the
 * browser tests run the console under the policy it is deployed with.
 */

/** Only this origin, plus the sign-in origins (discovery and token endpoint) for `fetch`. */
export function contentSecurityPolicy(signInOrigins: readonly string[]): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    ["connect-src 'self'", ...signInOrigins].join(' '),
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    'upgrade-insecure-requests',
  ].join('; ');
}
