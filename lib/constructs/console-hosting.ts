/**
 * ConsoleHosting: the console (a static single-page app) on a private S3 bucket behind
 * CloudFront, on the same origin as the API: `/usage-metering/v1/*` goes to the HTTP API
 * uncached, everything else to the bucket (through origin access control), and a path that is
 * not a file answers index.html. A strict Content-Security-Policy and the usual security
 * headers go with every answer. `config.json` beside the bundle tells the console where to
 * sign in.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import { Construct } from 'constructs';
import { contentSecurityPolicy } from '../../shared/http/content-security-policy.js';
import { API_BASE_PATH } from '../../shared/http/route-specs.js';
import type { ApiSignIn } from './api-sign-in.js';
import { acknowledgeRule } from './nag.js';

/** Where the console's build puts the bundle, relative to the project root. */
export const DEFAULT_CONSOLE_ASSETS = 'console/dist';

/** What the console reads from `/config.json` (absent locally: same origin, no sign-in). */
export interface ConsoleConfig {
  /** Prefix of API URLs: "" = this origin (the API is under /usage-metering/v1 here). */
  apiBaseUrl: string;
  auth?: {
    /** The OIDC authority (issuer): its `/.well-known/openid-configuration` names the endpoints. */
    authority: string;
    clientId: string;
    /** Space-separated, as the authorization request sends them. */
    scopes: string;
    redirectUri: string;
  };
}

export interface ConsoleHostingProps {
  /** The API the console calls, served on the same origin. */
  readonly httpApi: apigw.IHttpApi;
  /** The user pool people sign in with; its console client is created here. */
  readonly signIn: ApiSignIn;
  /**
   * The folder holding the built console (index.html at its root), absolute or relative to the
   * working directory. @default DEFAULT_CONSOLE_ASSETS
   */
  readonly assetPath?: string;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/** CloudFront Function: a request for a path whose last segment has no dot is a route of the single-page app. */
export const SPA_FALLBACK = `function handler(event) {
  var request = event.request;
  var last = request.uri.split('/').pop();
  if (last.indexOf('.') === -1) request.uri = '/index.html';
  return request;
}`;

export { contentSecurityPolicy };

/** The bucket, the distribution and the deployment of the console. */
export class ConsoleHosting extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly deployment: s3deploy.BucketDeployment;
  /** `https://<distribution>.cloudfront.net` */
  readonly url: string;
  readonly config: ConsoleConfig;

  constructor(scope: Construct, id: string, props: ConsoleHostingProps) {
    super(scope, id);
    const assets = consoleAssets(props.assetPath);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy,
      autoDeleteObjects: false,
    });
    acknowledgeRule(
      this.bucket,
      'S1',
      'Holds only the public console bundle, written by the deployment; CloudFront is its only reader, and the API’s own access log records every call that matters.',
    );
    this.distribution = this.#distribution(props);
    this.url = `https://${this.distribution.distributionDomainName}`;

    const client = props.signIn.addConsoleClient(`${this.url}/`);
    this.config = {
      apiBaseUrl: '',
      auth: {
        authority: props.signIn.issuer,
        clientId: client.userPoolClientId,
        scopes: props.signIn.consoleScopes.join(' '),
        redirectUri: `${this.url}/`,
      },
    };
    this.deployment = new s3deploy.BucketDeployment(this, 'Deployment', {
      sources: [
        s3deploy.Source.asset(assets),
        s3deploy.Source.jsonData('config.json', this.config),
      ],
      destinationBucket: this.bucket,
      distribution: this.distribution,
      distributionPaths: ['/*'],
      prune: true,
      memoryLimit: 512,
    });
    this.#acknowledgeDeploymentHandler();
  }

  // The CDK's own handler that copies the bundle: its code, runtime and policy are the CDK's.
  #acknowledgeDeploymentHandler(): void {
    const stack = Stack.of(this);
    const handler = stack.node.children.find((child) =>
      child.node.id.startsWith('Custom::CDKBucketDeployment'),
    );
    if (!handler) throw new Error(`${this.node.path}: the deployment handler was not found`);
    const ours = 'The CDK’s BucketDeployment handler, run by CloudFormation at deploy time only:';
    const ack = (id: string, reason: string) =>
      Validations.of(handler).acknowledge({ id, reason: `${ours} ${reason}` });
    ack(
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'the managed policy lets it write its own logs, nothing else.',
    );
    for (const action of [
      's3:GetObject*',
      's3:GetBucket*',
      's3:List*',
      's3:DeleteObject*',
      's3:Abort*',
    ]) {
      ack(
        `AwsSolutions-IAM5[Action::${action}]`,
        'the CDK grants read of the asset and read/write of the console bucket with these action groups.',
      );
    }
    ack(
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]',
      'it reads the bundle from the CDK bootstrap asset bucket.',
    );
    ack(
      `AwsSolutions-IAM5[Resource::${flattenCfnReference(stack.resolve(`${this.bucket.bucketArn}/*`))}]`,
      'it writes the bundle and config.json into the console bucket, every key of it.',
    );
    ack(
      'AwsSolutions-IAM5[Resource::*]',
      'cloudfront:CreateInvalidation does not support resource-level permissions in the CDK grant; it invalidates the console after each deploy.',
    );
    for (const id of ['AwsSolutions-L1', 'Serverless-LambdaLatestVersion']) {
      ack(id, 'the CDK pins the runtime of its handler to the version it was tested with.');
    }
    ack(
      'Serverless-LambdaDLQ',
      'invoked synchronously by CloudFormation, which reports its errors.',
    );
    ack('Serverless-LambdaTracing', 'a deploy-time copy with nothing worth tracing.');
  }

  // The CSP (this origin and Cognito) and the usual security headers, on every answer.
  #securityHeaders(signIn: ApiSignIn): cloudfront.ResponseHeadersPolicy {
    const region = Stack.of(this).region;
    return new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Usage-metering console: strict CSP and security headers',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: contentSecurityPolicy([
            signIn.domainUrl,
            `https://cognito-idp.${region}.amazonaws.com`,
          ]),
          override: true,
        },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(730),
          includeSubdomains: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: {
          referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER,
          override: true,
        },
        xssProtection: { protection: false, override: true },
      },
    });
  }

  #distribution(props: ConsoleHostingProps): cloudfront.Distribution {
    const region = Stack.of(this).region;
    const headers = this.#securityHeaders(props.signIn);
    const fallback = new cloudfront.Function(this, 'SpaFallback', {
      comment: 'Paths that are not files answer the console index.html',
      code: cloudfront.FunctionCode.fromInline(SPA_FALLBACK),
      runtime: cloudfront.FunctionRuntime.JS_2_0,
    });
    const apiOrigin = new origins.HttpOrigin(
      `${props.httpApi.apiId}.execute-api.${region}.${Stack.of(this).urlSuffix}`,
      { protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY },
    );
    const distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Usage-metering console and API',
      defaultRootObject: 'index.html',
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
        functionAssociations: [
          { function: fallback, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST },
        ],
      },
      additionalBehaviors: {
        [`${API_BASE_PATH.slice(1)}/*`]: {
          origin: apiOrigin,
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          // Never cached; every viewer header but Host (API Gateway routes by its own) goes on,
          // Authorization included (allowed because caching is off).
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          responseHeadersPolicy: headers,
        },
      },
    });
    acknowledgeNagFindings(distribution);
    return distribution;
  }
}

/** The console bundle's folder, refused when it has not been built. */
export function consoleAssets(given: string | undefined): string {
  const folder = path.resolve(given ?? DEFAULT_CONSOLE_ASSETS);
  if (!existsSync(path.join(folder, 'index.html'))) {
    throw new Error(
      `the console is enabled but ${folder} holds no index.html: build the console first (npm run console:build), or leave out -c console=true`,
    );
  }
  return folder;
}

function acknowledgeNagFindings(distribution: cloudfront.Distribution): void {
  acknowledgeRule(
    distribution,
    'CFR1',
    'The console is for the operator’s staff wherever they are; every API call needs a signed-in token with the right scope. Add geo restrictions where policy asks for them.',
  );
  acknowledgeRule(
    distribution,
    'CFR2',
    'No WAF web ACL by default (a fixed monthly cost per ACL and per rule): the API behind it is authorized by JWT scopes and throttled at its stage. Attach a web ACL (created in us-east-1) with webAclId where policy requires one.',
  );
  acknowledgeRule(
    distribution,
    'CFR3',
    'CloudFront standard logs need a bucket with ACLs enabled; the API calls behind the distribution are logged by API Gateway’s access log, and the console bundle is public static content.',
  );
  acknowledgeRule(
    distribution,
    'CFR4',
    'With the default *.cloudfront.net certificate CloudFront allows TLSv1 at minimum whatever the security policy says; TLS 1.2 needs a custom domain with an ACM certificate, which this stack does not assume.',
  );
}
