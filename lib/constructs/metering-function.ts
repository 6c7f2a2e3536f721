/**
 * MeteringFunction: the one place that says how a Lambda of this service is built and run.
 * Every entry point in lambdas/ becomes a MeteringFunction; only what differs is passed in.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  type BundlingOptions,
  type ICommandHooks,
  LogLevel,
  NodejsFunction,
  OutputFormat,
} from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { DeadLetterQueue } from './dead-letter-queue.js';
import { acknowledgeRule, acknowledgeWildcardResource } from './nag.js';

/** The repository root: bundling runs from here, with its package-lock.json and tsconfig.json. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Lambda rejects a function whose environment variables total more than 4 KB. */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;

/**
 * What an unresolved value (a table name, an ARN, a queue URL) is counted as when the size of
 * an environment is checked at synth time. The values this service passes are generated names
 * and ARNs of well under 200 characters.
 */
export const UNRESOLVED_VALUE_ESTIMATE_BYTES = 200;

/** CloudWatch namespace of the custom metrics the Lambdas publish with Powertools. */
export const METRICS_NAMESPACE = 'UsageMetering';

/** Variables that Node.js and Powertools for AWS Lambda read (their names, not ours). */
const RUNTIME_ENV = {
  nodeOptions: 'NODE_OPTIONS',
  serviceName: 'POWERTOOLS_SERVICE_NAME',
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
  logLevel: 'POWERTOOLS_LOG_LEVEL',
} as const;

// ESM output needs `require` for the CommonJS parts of dependencies (e.g. Node built-ins).
const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

const ZOD_WITHOUT_LOCALES = path.join(REPO_ROOT, 'lib', 'bundling', 'zod-lean.ts');

/** Bundling hooks that copy repository files next to the bundle (local bundling, no Docker). */
function copying(files: readonly string[]): ICommandHooks {
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (inputDir, outputDir) =>
      files.map((file) => `cp "${path.join(inputDir, file)}" "${outputDir}/"`),
  };
}

/** How every Lambda is bundled: esbuild, locally, ESM for Node 22, everything included. */
const BUNDLING: BundlingOptions = {
  format: OutputFormat.ESM,
  target: 'node22',
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
  minify: true,
  sourceMap: true,
  // Stack traces need file and line, not the sources: keeps the bundle small.
  sourcesContent: false,
  // The versions the tests ran against, not whatever the runtime ships.
  bundleAwsSDK: true,
  externalModules: [],
  forceDockerBundling: false,
  // Sizes are checked by test/infra/bundles.test.ts; `cdk synth --quiet` stays quiet.
  logLevel: LogLevel.WARNING,
  esbuildArgs: { '--alias:zod': ZOD_WITHOUT_LOCALES },
};

/** The Lambda entry points, files under lambdas/. */
export type MeteringEntryPoint = 'api' | 'ingest' | 'reset' | 'sweeper';

export interface MeteringFunctionProps {
  /** The entry point: `lambdas/<entry>.ts`, exporting `handler`. */
  readonly entry: MeteringEntryPoint;
  readonly description: string;
  readonly timeout: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** Variables of this service (names from shared/config/env-names.ts). */
  readonly environment?: Record<string, string>;
  /** @default one month */
  readonly logRetention?: logs.RetentionDays;
  /** Of the log group. @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** Retries of asynchronous invocations (scheduler, rules). @default Lambda's default (2) */
  readonly retryAttempts?: number;
  /** Where asynchronous invocations go after their retries. */
  readonly deadLetterQueue?: DeadLetterQueue;
  /**
   * Concurrent executions reserved for (and at most used by) this function. 0 or absent:
   * none reserved, the function shares the account's unreserved pool.
   */
  readonly reservedConcurrency?: number;
  /** Customer managed key for the log group; default: CloudWatch Logs' own encryption. */
  readonly encryptionKey?: kms.IKey;
  /**
   * Why a function without `deadLetterQueue` needs none: it is invoked synchronously (API
   * Gateway, an event source mapping), or its failed invocation leaves nothing to replay.
   */
  readonly noDeadLetterQueueReason?: string;
  /**
   * Files of the repository the code reads beside itself at run time (`new URL('./x',
   * import.meta.url)`), copied next to index.mjs. @default none
   */
  readonly files?: readonly string[];
}

/**
 * A Node.js 22 Lambda on arm64, bundled locally by esbuild (ESM, minified, source maps),
 * traced with X-Ray, with Powertools settings, its own log group and its own role that can
 * only write to that log group until grants are added.
 */
export class MeteringFunction extends Construct implements iam.IGrantable {
  readonly function: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly grantPrincipal: iam.IPrincipal;
  /** The entry point, also the Powertools service name. */
  readonly entry: MeteringEntryPoint;
  readonly #environment: Record<string, string> = {};

  constructor(scope: Construct, id: string, props: MeteringFunctionProps) {
    super(scope, id);
    this.entry = props.entry;
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      ...(props.encryptionKey ? { encryptionKey: props.encryptionKey } : {}),
    });
    this.role = this.#createRole();
    this.grantPrincipal = this.role;

    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(REPO_ROOT, 'lambdas', `${props.entry}.ts`),
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      retryAttempts: props.retryAttempts,
      ...(props.reservedConcurrency
        ? { reservedConcurrentExecutions: props.reservedConcurrency }
        : {}),
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      bundling: props.files?.length
        ? { ...BUNDLING, commandHooks: copying(props.files) }
        : BUNDLING,
    });
    this.addEnvironment(RUNTIME_ENV.nodeOptions, '--enable-source-maps');
    this.addEnvironment(RUNTIME_ENV.serviceName, props.entry);
    this.addEnvironment(RUNTIME_ENV.metricsNamespace, METRICS_NAMESPACE);
    this.addEnvironment(RUNTIME_ENV.logLevel, 'INFO');
    for (const [name, value] of Object.entries(props.environment ?? {})) {
      this.addEnvironment(name, value);
    }
    this.#acknowledgeFindings();
    if (props.deadLetterQueue) this.#useDeadLetterQueue(props.deadLetterQueue);
    else if (props.noDeadLetterQueueReason) {
      acknowledgeRule(this.function, 'LambdaDLQ', props.noDeadLetterQueueReason, 'Serverless');
    } else {
      throw new Error(`the ${props.entry} Lambda needs a dead-letter queue or a reason for none`);
    }
    this.node.addValidation({ validate: () => this.#validateEnvironmentSize() });
  }

  // An own role instead of the AWSLambdaBasicExecutionRole managed policy: logs go to this
  // function's log group only.
  #createRole(): iam.Role {
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs the usage-metering ${this.entry} Lambda`,
    });
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    return role;
  }

  #acknowledgeFindings(): void {
    acknowledgeWildcardResource(
      this.role,
      '*',
      'X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level permissions, so their resource must be *.',
    );
    const runtimeReason =
      'nodejs22.x is the runtime this service is built and tested for (DESIGN.md; the AWS SDK v3 requires Node 22 from 2027); nodejs24.x is newer and is adopted after the test suite runs on it.';
    acknowledgeRule(this.function, 'L1', runtimeReason);
    acknowledgeRule(this.function, 'LambdaLatestVersion', runtimeReason, 'Serverless');
  }

  // Set here rather than with the function's `deadLetterQueue` prop, whose automatic grant
  // would let this role use the queue's key for anything: the key only through SQS.
  #useDeadLetterQueue(dlq: DeadLetterQueue): void {
    (this.function.node.defaultChild as lambda.CfnFunction).deadLetterConfig = {
      targetArn: dlq.queue.queueArn,
    };
    this.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [dlq.queue.queueArn] }),
    );
    dlq.grantKeyForSending(this);
  }

  /** Sets one environment variable (kept for the synth-time size check). */
  addEnvironment(name: string, value: string): this {
    this.#environment[name] = value;
    this.function.addEnvironment(name, value);
    return this;
  }

  /** Adds a statement to this function's role. */
  addToRolePolicy(statement: iam.PolicyStatement): void {
    this.role.addToPrincipalPolicy(statement);
  }

  /** The estimated size of the environment in bytes, unresolved values counted generously. */
  environmentSizeEstimate(): number {
    let bytes = 0;
    for (const [name, value] of Object.entries(this.#environment)) {
      bytes += Buffer.byteLength(name);
      bytes += Token.isUnresolved(value)
        ? UNRESOLVED_VALUE_ESTIMATE_BYTES
        : Buffer.byteLength(value);
    }
    return bytes;
  }

  #validateEnvironmentSize(): string[] {
    const bytes = this.environmentSizeEstimate();
    if (bytes <= LAMBDA_ENVIRONMENT_LIMIT_BYTES) return [];
    const largest = Object.entries(this.#environment)
      .filter(([, value]) => !Token.isUnresolved(value))
      .sort(([, a], [, b]) => Buffer.byteLength(b) - Buffer.byteLength(a))[0];
    const hint = largest
      ? ` The largest is ${largest[0]} (${Buffer.byteLength(largest[1])} bytes).`
      : '';
    return [
      `The environment of the ${this.entry} Lambda (${this.node.path}) would be about ${bytes} bytes, over Lambda's limit of ${LAMBDA_ENVIRONMENT_LIMIT_BYTES} bytes.${hint} Shorten the stream configuration (descriptions, rules) or split it across deployments.`,
    ];
  }
}
