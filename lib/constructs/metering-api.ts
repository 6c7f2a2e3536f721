/**
 * MeteringApi: the HTTP API (payload 2.0) with a route for every route the API Lambda serves,
 * an authorizer on each (AWS IAM by default, or JWT with a scope per access level), stage
 * throttling and JSON access logs.
 */
import { CfnOutput, Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { TABLE_KEYS } from '../../shared/adapters/dynamodb/table.js';
import { ENV } from '../../shared/config/env-names.js';
import {
  type AccessLevel,
  DEFAULT_SCOPE_NAMES,
  levelsAllowedFor,
  SCOPE_TOKEN,
  type ScopeNames,
  scopesFor,
} from '../../shared/http/access-levels.js';
import { ALL_GATEWAY_ROUTES, API_BASE_PATH } from '../../shared/http/route-specs.js';
import { MeteringFunction } from './metering-function.js';
import type { ItemAction, MeteringTable } from './metering-table.js';
import type { PeriodEnd } from './period-end.js';
import type { RecordDestination } from './record-destination.js';
import type { UsageStreams } from './usage-streams.js';

/** Who may call the API. */
export type ApiAuthorization =
  /**
   * Callers sign requests with SigV4 and need execute-api:Invoke on the routes they call
   * (default); `grantInvoke` grants an access level's routes.
   */
  | { readonly kind: 'iam' }
  /**
   * A JWT from an OAuth2/OIDC issuer, e.g. client credentials. Every route requires the scope of
   * its access level or a higher one (shared/http/access-levels.ts).
   */
  | {
      readonly kind: 'jwt';
      readonly issuer: string;
      /** Accepted `aud` (or, for Cognito access tokens, `client_id`) values. */
      readonly audience: readonly string[];
      /** Scope names per access level. @default DEFAULT_SCOPE_NAMES (`usage-metering/read`, ...) */
      readonly scopes?: Partial<ScopeNames>;
    }
  /**
   * JWTs of a Cognito user pool this service creates (UsageMetering's ApiSignIn): client
   * credentials for programs, the console's sign-in for people; scopes `usage-metering/read`,
   * `/write`, `/admin`. UsageMetering turns it into `jwt` before MeteringApi sees it.
   */
  | {
      readonly kind: 'cognito';
      /** @default derived from the stack name (with the stage) and the account id */
      readonly domainPrefix?: string;
      /** Ids of further app clients of the pool (made outside the stack) whose tokens to accept. */
      readonly clientIds?: readonly string[];
    };

/** Stage throttling when none is given: all callers together, far below the account's quota. */
export const DEFAULT_API_THROTTLE = { rateLimit: 100, burstLimit: 200 } as const;

/**
 * What the API does in the table: meter types, meters, data corrections and the streams' meter
 * processors are read (Get, BatchGet for lists and the summary), created and changed in
 * transactions (Put, Update, Delete; a new processor version is two conditional Puts) and
 * listed through the list index (a processor's versions: a Query of its partition).
 */
export const API_ITEM_ACTIONS: readonly ItemAction[] = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
];

export interface MeteringApiProps {
  readonly table: MeteringTable;
  readonly streams: UsageStreams;
  readonly periodEnd: PeriodEnd;
  /** Where `POST /metered-records/{recordId}/resend` sends a kept record again. */
  readonly destination: RecordDestination;
  /** @default AWS IAM */
  readonly authorization?: ApiAuthorization;
  /**
   * Stage throttling, shared by all callers: steady requests per second and burst. A field left
   * out takes its default. @default DEFAULT_API_THROTTLE (100 per second, burst 200)
   */
  readonly throttle?: apigw.ThrottleSettings;
  readonly logRetention?: logs.RetentionDays;
  readonly removalPolicy?: RemovalPolicy;
  /** Customer managed key for the log groups. */
  readonly encryptionKey?: kms.IKey;
  /**
   * Concurrent executions reserved for (and at most used by) the API Lambda: a flood of calls
   * cannot take the room of ingestion. 0 reserves none. @default 50
   */
  readonly reservedConcurrency?: number;
}

// One JSON line per request; `$context.authorizer.error` says why a call was refused.
const ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTime',
    ip: '$context.identity.sourceIp',
    caller: '$context.identity.caller',
    user: '$context.identity.userArn',
    jwtSubject: '$context.authorizer.claims.sub',
    routeKey: '$context.routeKey',
    status: '$context.status',
    protocol: '$context.protocol',
    responseLength: '$context.responseLength',
    latency: '$context.responseLatency',
    integrationLatency: '$context.integrationLatency',
    integrationError: '$context.integrationErrorMessage',
    authorizerError: '$context.authorizer.error',
  }),
);

/** The API Lambda behind an HTTP API. */
export class MeteringApi extends Construct {
  readonly handler: MeteringFunction;
  readonly httpApi: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly accessLogs: logs.LogGroup;
  readonly routes: readonly apigw.HttpRoute[];
  /** The base URL of the API, `https://<id>.execute-api.<region>.amazonaws.com/usage-metering/v1`. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: MeteringApiProps) {
    super(scope, id);
    this.handler = new MeteringFunction(this, 'Handler', {
      entry: 'api',
      description:
        'Usage-metering HTTP API: meter types, meters, data corrections, streams, metered records',
      timeout: Duration.seconds(15),
      environment: {
        [ENV.tableName]: props.table.tableName,
        [ENV.streamsConfig]: props.streams.configJson,
        ...props.streams.environment,
        ...props.periodEnd.schedulingEnvironment(),
        ...props.destination.environment,
      },
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
      encryptionKey: props.encryptionKey,
      reservedConcurrency: props.reservedConcurrency ?? 50,
      noDeadLetterQueueReason:
        'Invoked synchronously by API Gateway, which returns its errors to the caller; a dead-letter queue applies to asynchronous invocations only.',
      // GET /openapi.json reads it beside the handler (shared/http/api.ts).
      files: ['shared/http/openapi.json'],
    });
    this.#grant(props);

    this.httpApi = new apigw.HttpApi(this, 'HttpApi', {
      description: 'Usage metering',
      createDefaultStage: false,
    });
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy,
      ...(props.encryptionKey ? { encryptionKey: props.encryptionKey } : {}),
    });
    this.stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogs),
        format: ACCESS_LOG_FORMAT,
      },
      throttle: throttleOf(this, props.throttle),
    });

    this.routes = this.addTableRoutes(props.authorization ?? { kind: 'iam' });
    this.url = `${this.httpApi.apiEndpoint}${API_BASE_PATH}`;
    new CfnOutput(this, 'Url', {
      value: this.url,
      description: 'Base URL of the usage-metering API',
    });
  }

  // What the API Lambda may do: items, the list and history indexes, schedules, streams, the destination.
  #grant(props: MeteringApiProps): void {
    props.table.grantItemActions(this.handler, API_ITEM_ACTIONS);
    // Lists of meter types, meters and corrections read the list index; the history its three
    // indexes; a user's usage and a stream's dry run a user's meters by key (never a Scan).
    props.table.grantQuery(this.handler, {
      table: true,
      indexes: [
        TABLE_KEYS.listIndex,
        TABLE_KEYS.historyByUserIndex,
        TABLE_KEYS.historyByMeterIndex,
        TABLE_KEYS.historyByTypeIndex,
      ],
    });
    // Re-sending a kept metered record publishes it again.
    props.destination.grantPublish(this.handler);
    props.periodEnd.grantScheduling(this.handler, { cancel: true });
    // Re-sending a data correction puts the record back on its stream; HTTP ingestion puts
    // usage records on it.
    props.streams.grantPutRecord(this.handler);
  }

  /**
   * One API Gateway route per row of the route table, HEAD beside each GET and ANY per path
   * (answered 405 with `Allow` by the Lambda, as locally), each with the authorizer it needs.
   */
  private addTableRoutes(authorization: ApiAuthorization): apigw.HttpRoute[] {
    if (authorization.kind === 'cognito') {
      throw new Error(`${this.node.path}: pass the user pool's issuer as { kind: 'jwt' }`);
    }
    const integration = new HttpLambdaIntegration('Handler', this.handler.function, {
      payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
      // One permission for the API instead of one per route; the API has no other targets.
      scopePermissionToRoute: false,
    });
    const authorizer =
      authorization.kind === 'iam'
        ? new HttpIamAuthorizer()
        : new HttpJwtAuthorizer('Jwt', authorization.issuer, {
            jwtAudience: [...authorization.audience],
          });
    // A token with any one of a route's scopes may call it, so each route lists its level's
    // scope and those of the levels above.
    const scopeNames =
      authorization.kind === 'jwt' ? scopeNamesOf(this, authorization.scopes) : undefined;
    return ALL_GATEWAY_ROUTES.flatMap((route) =>
      this.httpApi.addRoutes({
        path: `${API_BASE_PATH}${route.path}`,
        methods: [apigw.HttpMethod[route.method]],
        integration,
        authorizer,
        ...(scopeNames ? { authorizationScopes: scopesFor(route.access, scopeNames) } : {}),
      }),
    );
  }

  /**
   * Lets an IAM principal call the routes of `level` and the levels below it (IAM authorization;
   * with JWT, the token's scopes decide instead).
   *
   * @example
   * metering.api.grantInvoke(dashboardRole, 'read');
   */
  grantInvoke(grantee: iam.IGrantable, level: AccessLevel): iam.Grant {
    // ANY is left out: IAM checks the request's own method, so a caller reaches ANY (for a 405)
    // only with a method it was granted elsewhere, and otherwise gets 403.
    const routes = ALL_GATEWAY_ROUTES.filter(
      (route) => route.method !== 'ANY' && levelsAllowedFor(route.access).includes(level),
    );
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      // `{id}` becomes `*`; the one stage is `$default`, matched by `*` (docs/api-access.md).
      resourceArns: routes.map((route) =>
        this.httpApi.arnForExecuteApi(
          route.method,
          `${API_BASE_PATH}${route.path.replace(/\{\w+\}/g, '*')}`,
          '*',
        ),
      ),
    });
  }
}

/** The stage throttle: the given limits over the defaults, refused when not positive. */
function throttleOf(
  scope: Construct,
  throttle: apigw.ThrottleSettings | undefined,
): apigw.ThrottleSettings {
  const rateLimit = throttle?.rateLimit ?? DEFAULT_API_THROTTLE.rateLimit;
  const burstLimit = throttle?.burstLimit ?? DEFAULT_API_THROTTLE.burstLimit;
  if (!(rateLimit > 0) || !Number.isInteger(burstLimit) || burstLimit <= 0) {
    throw new Error(
      `${scope.node.path}: throttle: rateLimit must be above 0 and burstLimit a whole number above 0 (got ${rateLimit} and ${burstLimit})`,
    );
  }
  return { rateLimit, burstLimit };
}

/** The scope names to require, refused when one is not an OAuth scope or two levels share one. */
function scopeNamesOf(scope: Construct, given: Partial<ScopeNames> | undefined): ScopeNames {
  const names: ScopeNames = {
    read: given?.read ?? DEFAULT_SCOPE_NAMES.read,
    write: given?.write ?? DEFAULT_SCOPE_NAMES.write,
    admin: given?.admin ?? DEFAULT_SCOPE_NAMES.admin,
  };
  const values = Object.values(names);
  const problems = [
    ...Object.entries(names)
      .filter(([, name]) => !SCOPE_TOKEN.test(name))
      .map(([level, name]) => `${level} '${name}' is not an OAuth scope name`),
    // A shared name would let the lower level's token call the higher level's routes.
    ...(new Set(values).size < values.length
      ? ['the three levels need three different names']
      : []),
  ];
  if (problems.length) {
    throw new Error(`${scope.node.path}: authorization.scopes: ${problems.join('; ')}`);
  }
  return names;
}
