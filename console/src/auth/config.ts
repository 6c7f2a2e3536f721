/**
 * `/config.json`, written beside the bundle by the deployment (lib/constructs/console-hosting.ts):
 * where the API is and how people sign in. Locally there is none: a missing, non-JSON or
 * malformed answer means "this origin, no sign-in".
 */

export interface AuthConfig {
  /** The OIDC issuer; its `/.well-known/openid-configuration` names the endpoints. */
  authority: string;
  clientId: string;
  /** Space-separated. */
  scopes: string;
  redirectUri: string;
}

export interface ConsoleConfig {
  /** What goes before `/usage-metering/v1`: "" = this origin. */
  apiBaseUrl: string;
  auth?: AuthConfig;
}

const NONE: ConsoleConfig = { apiBaseUrl: '' };

const isText = (value: unknown): value is string => typeof value === 'string' && value !== '';

/** The config's fields, or undefined when the body is not a config. */
export function parseConfig(body: unknown): ConsoleConfig | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { apiBaseUrl, auth } = body as Record<string, unknown>;
  if (apiBaseUrl !== undefined && typeof apiBaseUrl !== 'string') return undefined;
  const config: ConsoleConfig = { apiBaseUrl: (apiBaseUrl ?? '').replace(/\/+$/, '') };
  if (auth === undefined) return config;
  const { authority, clientId, scopes, redirectUri } = (auth ?? {}) as Record<string, unknown>;
  if (!isText(authority) || !isText(clientId) || !isText(scopes) || !isText(redirectUri))
    return undefined;
  return { ...config, auth: { authority, clientId, scopes, redirectUri } };
}

/** Fetches `/config.json` from this origin; no (usable) config = no sign-in. */
export async function loadConfig(): Promise<ConsoleConfig> {
  try {
    const response = await fetch('/config.json');
    if (!response.ok) return NONE;
    return parseConfig(await response.json()) ?? NONE;
  } catch {
    return NONE;
  }
}
