/**
 * MeteringApi: the HTTP API (payload 2.0) with a route for every route the API Lambda serves,
 * an authorizer on each (AWS IAM by default, or JWT), and JSON access logs.
 */
import { CfnOutput, Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { TABLE_KEYS } from '../../shared/adapters/dynamodb/table.js';
import { ENV } from '../../shared/config/env-names.js';
import { API_BASE_PATH } from '../../shared/http/api.js';
import { ALL_ROUTE_SPECS } from '../../shared/http/route-specs.js';
import { MeteringFunction } from './metering-function.js';
import type { ItemAction, MeteringTable } from './metering-table.js';
import type { PeriodEnd } from './period-end.js';
import type { UsageStreams } from './usage-streams.js';

/** Who may call the API. */
export type ApiAuthorization =
  /** Callers sign requests with SigV4 and need execute-api:Invoke on the API (default). */
  | { readonly kind: 'iam' }
  /**
   * A JWT from an OAuth2/OIDC issuer, e.g. client credentials; `scopes` are required on every
   * route when given.
   */
  | {
      readonly kind: 'jwt';
      readonly issuer: string;
      readonly audience: readonly string[];
      readonly scopes?: readonly string[];
    };

/**
 * What the API does in the table: meter types, meters and data corrections are read (Get,
 * BatchGet for lists and the summary), created and changed in transactions (Put, Update,
 * Delete) and listed through the list index.
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
  /** @default AWS IAM */
  readonly authorization?: ApiAuthorization;
  /** Stage throttling; default: the account's API Gateway limits. */
  readonly throttle?: apigw.ThrottleSettings;
  readonly logRetention?: logs.RetentionDays;
  readonly removalPolicy?: RemovalPolicy;
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
      description: 'Usage-metering HTTP API: meter types, meters, data corrections, streams',
      timeout: Duration.seconds(15),
      environment: {
        [ENV.tableName]: props.table.tableName,
        [ENV.streamsConfig]: props.streams.configJson,
        ...props.periodEnd.schedulingEnvironment(),
      },
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    props.table.grantItemActions(this.handler, API_ITEM_ACTIONS);
    // Lists of meter types, meters and corrections read the list index only.
    props.table.grantQuery(this.handler, { indexes: [TABLE_KEYS.listIndex] });
    props.periodEnd.grantScheduling(this.handler, { cancel: true });
    // Re-sending a data correction puts the record back on its stream.
    props.streams.grantPutRecord(this.handler);

    this.httpApi = new apigw.HttpApi(this, 'HttpApi', {
      description: 'Usage metering',
      createDefaultStage: false,
    });
    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy,
    });
    this.stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogs),
        format: ACCESS_LOG_FORMAT,
      },
      ...(props.throttle ? { throttle: props.throttle } : {}),
    });

    const integration = new HttpLambdaIntegration('Handler', this.handler.function, {
      payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
      // One permission for the API instead of one per route; the API has no other targets.
      scopePermissionToRoute: false,
    });
    const authorization = props.authorization ?? { kind: 'iam' };
    const authorizer =
      authorization.kind === 'iam'
        ? new HttpIamAuthorizer()
        : new HttpJwtAuthorizer('Jwt', authorization.issuer, {
            jwtAudience: [...authorization.audience],
          });
    const scopes = authorization.kind === 'jwt' ? authorization.scopes : undefined;
    this.routes = ALL_ROUTE_SPECS.flatMap((route) =>
      this.httpApi.addRoutes({
        path: `${API_BASE_PATH}${route.path}`,
        methods: [apigw.HttpMethod[route.method]],
        integration,
        authorizer,
        ...(scopes?.length ? { authorizationScopes: [...scopes] } : {}),
      }),
    );
    this.url = `${this.httpApi.apiEndpoint}${API_BASE_PATH}`;
    new CfnOutput(this, 'Url', {
      value: this.url,
      description: 'Base URL of the usage-metering API',
    });
  }
}
