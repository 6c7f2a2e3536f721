/**
 * ApiSignIn: a Cognito user pool that issues the API's JWTs. People sign in to the console
 * with the authorization-code flow and PKCE (a public client, no secret); machine clients use
 * OAuth2 client credentials (a confidential client). A resource server carries the API's
 * read/write/admin scopes, so the API's JWT authorizer checks the same scopes for both.
 */
import { Aws, Duration, Fn, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { DEFAULT_SCOPE_NAMES, type ScopeNames } from '../../shared/http/access-levels.js';
import { acknowledgeRule } from './nag.js';

/** The resource server's identifier: scopes are `usage-metering/read`, `/write`, `/admin`. */
export const RESOURCE_SERVER_ID = 'usage-metering';

/** The scope names the user pool issues (the JWT authorizer requires these). */
export const COGNITO_SCOPE_NAMES: ScopeNames = DEFAULT_SCOPE_NAMES;

export interface ApiSignInProps {
  /**
   * The Cognito domain prefix (`<prefix>.auth.<region>.amazoncognito.com`); globally unique
   * per Region. @default `cognitoDomainPrefix(stack name)` followed by the account id
   */
  readonly domainPrefix?: string;
  /** @default RemovalPolicy.RETAIN (with deletion protection) */
  readonly removalPolicy?: RemovalPolicy;
  /** Ids of further app clients (made outside the stack) whose tokens the API accepts. */
  readonly clientIds?: readonly string[];
}

/**
 * The domain prefix derived from a stack name (which carries the stage): lower case, letters,
 * digits and hyphens, without the words Cognito refuses in a prefix (aws, amazon, cognito).
 */
export function cognitoDomainPrefix(stackName: string): string {
  const slug = stackName
    .toLowerCase()
    .replace(/aws|amazon|cognito/g, '')
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  // Room for `-` and a 12-digit account id within Cognito's 63 characters.
  return (slug || 'usage-metering').slice(0, 50).replace(/-$/, '');
}

/** A pool of invited people only: e-mail sign-in, strong passwords, TOTP MFA required. */
function userPoolOf(scope: Construct, removalPolicy: RemovalPolicy): cognito.UserPool {
  const userPool = new cognito.UserPool(scope, 'UserPool', {
    // People are invited by an administrator; nobody signs themselves up.
    selfSignUpEnabled: false,
    signInAliases: { email: true },
    autoVerify: { email: true },
    mfa: cognito.Mfa.REQUIRED,
    mfaSecondFactor: { otp: true, sms: false },
    passwordPolicy: {
      minLength: 12,
      requireLowercase: true,
      requireUppercase: true,
      requireDigits: true,
      requireSymbols: true,
      tempPasswordValidity: Duration.days(3),
    },
    accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
    deletionProtection: removalPolicy !== RemovalPolicy.DESTROY,
    removalPolicy,
  });
  acknowledgeRule(
    userPool,
    'COG8',
    'The Plus feature plan (threat protection) is charged per monthly active user; an operator console used by a few invited people with required TOTP MFA and a strong password policy does not need it. Switch featurePlan to PLUS where policy asks for it.',
  );
  return userPool;
}

/** The user pool, its domain, the API's scopes, and the two app clients. */
export class ApiSignIn extends Construct {
  readonly userPool: cognito.UserPool;
  readonly domain: cognito.UserPoolDomain;
  readonly resourceServer: cognito.UserPoolResourceServer;
  /** Client credentials (confidential, with a secret): for programs calling the API. */
  readonly machineClient: cognito.UserPoolClient;
  /** Authorization code with PKCE (public, no secret): for people in the console. */
  consoleClient?: cognito.UserPoolClient;
  /** The JWT issuer (also the OIDC authority): `https://cognito-idp.<region>.amazonaws.com/<pool id>`. */
  readonly issuer: string;
  /** The domain's base URL, `https://<prefix>.auth.<region>.amazoncognito.com`. */
  readonly domainUrl: string;
  readonly tokenEndpoint: string;
  readonly #scopes: cognito.OAuthScope[];
  readonly #clientIds: readonly string[];

  constructor(scope: Construct, id: string, props: ApiSignInProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.#clientIds = props.clientIds ?? [];
    this.userPool = userPoolOf(this, removalPolicy);
    const prefix =
      props.domainPrefix ??
      Fn.join('-', [cognitoDomainPrefix(Stack.of(this).stackName), Aws.ACCOUNT_ID]);
    this.domain = this.userPool.addDomain('Domain', { cognitoDomain: { domainPrefix: prefix } });
    this.domainUrl = this.domain.baseUrl();
    this.tokenEndpoint = `${this.domainUrl}/oauth2/token`;
    this.issuer = `https://cognito-idp.${Aws.REGION}.${Aws.URL_SUFFIX}/${this.userPool.userPoolId}`;

    const [identifier] = COGNITO_SCOPE_NAMES.read.split('/');
    const scopes = (['read', 'write', 'admin'] as const).map(
      (level) =>
        new cognito.ResourceServerScope({
          scopeName: COGNITO_SCOPE_NAMES[level].slice(`${identifier}/`.length),
          scopeDescription: `Calls the usage-metering API's ${level} routes`,
        }),
    );
    this.resourceServer = this.userPool.addResourceServer('Api', {
      identifier: identifier ?? RESOURCE_SERVER_ID,
      userPoolResourceServerName: 'usage-metering API',
      scopes,
    });
    this.#scopes = scopes.map((s) => cognito.OAuthScope.resourceServer(this.resourceServer, s));

    this.machineClient = this.userPool.addClient('MachineClient', {
      generateSecret: true,
      // No user sign-in at all (the key alone leaves Cognito's defaults off); tokens by secret.
      authFlows: { userSrp: false },
      oAuth: { flows: { clientCredentials: true }, scopes: this.#scopes },
      accessTokenValidity: Duration.hours(1),
      enableTokenRevocation: true,
      preventUserExistenceErrors: true,
    });
  }

  /** The client ids the API's JWT authorizer accepts (the console client once it is added). */
  get audience(): string[] {
    return Lazy.list({
      produce: () => [
        this.machineClient.userPoolClientId,
        ...(this.consoleClient ? [this.consoleClient.userPoolClientId] : []),
        ...this.#clientIds,
      ],
    });
  }

  /** The scopes a console token asks for: OpenID and the API's three levels. */
  get consoleScopes(): string[] {
    return ['openid', 'email', ...Object.values(COGNITO_SCOPE_NAMES)];
  }

  /** Adds the console's public client, redirecting back to `redirectUri` after sign-in. */
  addConsoleClient(redirectUri: string): cognito.UserPoolClient {
    if (this.consoleClient) throw new Error(`${this.node.path}: the console client exists`);
    this.consoleClient = this.userPool.addClient('ConsoleClient', {
      generateSecret: false,
      // No password flows (refresh only): people sign in on Cognito's pages, never in our script.
      authFlows: { userSrp: false },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, ...this.#scopes],
        callbackUrls: [redirectUri],
        logoutUrls: [redirectUri],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
      enableTokenRevocation: true,
      preventUserExistenceErrors: true,
    });
    return this.consoleClient;
  }
}
