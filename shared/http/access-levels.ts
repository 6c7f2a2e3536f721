/**
 * Access levels of the API's routes: what a caller's OAuth scope (JWT) or IAM policy must allow.
 * Levels nest, so a caller of one level may call every route of the levels below it.
 */

/** From least to most: read; write (create and change); admin (delete, re-send, bulk change). */
export const ACCESS_LEVELS = ['read', 'write', 'admin'] as const;

export type AccessLevel = (typeof ACCESS_LEVELS)[number];

/** The levels that may call a route of `level`: that level and every one above it. */
export function levelsAllowedFor(level: AccessLevel): AccessLevel[] {
  return ACCESS_LEVELS.slice(ACCESS_LEVELS.indexOf(level));
}

/** An OAuth scope name per access level. */
export type ScopeNames = Readonly<Record<AccessLevel, string>>;

/** The scope names of a Cognito resource server with the identifier `usage-metering`. */
export const DEFAULT_SCOPE_NAMES: ScopeNames = {
  read: 'usage-metering/read',
  write: 'usage-metering/write',
  admin: 'usage-metering/admin',
};

/** RFC 6749 scope-token: printable ASCII without space, `"` or `\`. */
export const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** The scopes of which a token needs any one to call a route of `level`. */
export function scopesFor(level: AccessLevel, names: ScopeNames = DEFAULT_SCOPE_NAMES): string[] {
  return levelsAllowedFor(level).map((allowed) => names[allowed]);
}
