/**
 * The CDK app's settings from context (`npx cdk deploy -c destination=sns ...`), parsed with
 * zod so a typo fails the synth with a clear message instead of deploying something else.
 */
import { readFileSync } from 'node:fs';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { z } from 'zod';
import { SCOPE_TOKEN } from '../shared/http/access-levels.js';
import type { ApiAuthorization } from './constructs/metering-api.js';
import type { UsageMeteringStackProps } from './usage-metering-stack.js';

const list = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
);
const flag = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
const positiveInt = z.coerce.number().int().positive();
const scopeName = z.string().regex(SCOPE_TOKEN, 'must be an OAuth scope name (no spaces)');

/** A stage name: letters, digits and hyphens, starting with a letter. */
const stageName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9-]{0,31}$/, 'must be letters, digits and hyphens (at most 32)');

/** Context keys the app reads; all optional, and no others (a misspelt key is refused). */
export const appContextSchema = z
  .strictObject({
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/)
      .optional(),
    // Two stages (dev, prod, a developer's own) side by side in one account and Region.
    stage: stageName.optional(),
    destination: z.enum(['sqs', 'sqs-fifo', 'sns', 'sns-fifo']).default('sqs'),
    // Default: cognito with the console, else iam.
    auth: z.enum(['iam', 'jwt', 'cognito']).optional(),
    console: flag.default(false),
    consolePath: z.string().min(1).optional(),
    cognitoDomainPrefix: z
      .string()
      .regex(
        /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/,
        'must be lower-case letters, digits and hyphens (at most 63)',
      )
      .optional(),
    jwtIssuer: z.url().optional(),
    jwtAudience: list.optional(),
    jwtReadScope: scopeName.optional(),
    jwtWriteScope: scopeName.optional(),
    jwtAdminScope: scopeName.optional(),
    apiRateLimit: z.coerce.number().positive().optional(),
    apiBurstLimit: positiveInt.optional(),
    streamsFile: z.string().optional(),
    shardCount: positiveInt.optional(),
    batchSize: positiveInt.max(10_000).optional(),
    batchingWindowSeconds: z.coerce.number().int().min(0).max(300).optional(),
    streamRetentionHours: z.coerce.number().int().min(24).max(8760).optional(),
    removalPolicy: z.enum(['retain', 'destroy']).default('retain'),
    alarmEmail: list.pipe(z.array(z.email({ error: 'must be e-mail addresses' }))).optional(),
    ingestConcurrency: z.coerce.number().int().min(0).optional(),
    apiConcurrency: z.coerce.number().int().min(0).optional(),
    resetConcurrency: z.coerce.number().int().min(0).optional(),
    periodEndWindowMinutes: z.coerce.number().int().min(0).max(1440).optional(),
    historyRetentionDays: z.coerce.number().int().min(1).max(3650).optional(),
    customerManagedKey: flag.default(false),
  })
  .superRefine((context, ctx) => {
    if (context.console && context.auth !== undefined && context.auth !== 'cognito') {
      ctx.addIssue({
        code: 'custom',
        path: ['auth'],
        message: `console=true needs auth=cognito (the default with a console), not ${context.auth}: ${context.auth === 'iam' ? 'a browser cannot sign IAM requests' : 'people sign in with the Cognito user pool the stack creates'}`,
      });
    }
    if (context.cognitoDomainPrefix && authOf(context) !== 'cognito') {
      ctx.addIssue({
        code: 'custom',
        path: ['cognitoDomainPrefix'],
        message: 'applies to auth=cognito (or console=true) only',
      });
    }
    if (context.auth === 'jwt' && (!context.jwtIssuer || !context.jwtAudience?.length)) {
      ctx.addIssue({
        code: 'custom',
        path: ['jwtIssuer'],
        message: 'auth=jwt needs -c jwtIssuer=https://... and -c jwtAudience=aud1,aud2',
      });
    }
  });

export type AppContext = z.infer<typeof appContextSchema>;

/** The API's authorization the context asks for: `auth`, else cognito with a console, else iam. */
function authOf(context: Pick<AppContext, 'auth' | 'console'>): 'iam' | 'jwt' | 'cognito' {
  return context.auth ?? (context.console ? 'cognito' : 'iam');
}

/** Context the CDK itself sets or reads (feature flags, CLI settings), not the app's. */
export function isCdkContextKey(key: string): boolean {
  return (
    key.startsWith('@aws-cdk/') ||
    key.startsWith('aws:cdk:') ||
    key.startsWith('aws-cdk:') ||
    key === 'acknowledged-issue-numbers'
  );
}

/**
 * Reads the app's settings from the whole context (`app.node.getAllContext()`); keys of the
 * CDK itself are left to it, any other key must be one of the app's.
 */
export function readAppContext(context: Record<string, unknown>): AppContext {
  const own = Object.entries(context).filter(
    ([key, v]) => !isCdkContextKey(key) && v !== undefined,
  );
  const result = appContextSchema.safeParse(Object.fromEntries(own));
  if (!result.success) {
    const problems = result.error.issues
      .map((issue) =>
        issue.code === 'unrecognized_keys'
          ? `${issue.keys.map((key) => `-c ${key}`).join(', ')}: unknown (the app reads ${Object.keys(appContextSchema.shape).join(', ')})`
          : `-c ${issue.path.join('.')}: ${issue.message}`,
      )
      .join('; ');
    throw new Error(`invalid context: ${problems}`);
  }
  return result.data;
}

/** The stack name: `stackName`, else UsageMetering, with `-<stage>` when a stage is given. */
export function stackNameOf(context: AppContext): string {
  if (context.stackName) return context.stackName;
  return context.stage ? `UsageMetering-${context.stage}` : 'UsageMetering';
}

/** The stack props the context asks for. */
export function stackPropsFromContext(context: AppContext): UsageMeteringStackProps {
  const [kind, fifo] = context.destination.split('-') as ['sqs' | 'sns', string | undefined];
  return {
    stackName: stackNameOf(context),
    ...(context.stage ? { tags: { 'usage-metering:stage': context.stage } } : {}),
    customerManagedKey: context.customerManagedKey,
    metering: {
      ...(context.streamsFile ? { streams: readFileSync(context.streamsFile, 'utf8') } : {}),
      destination: { kind, fifo: fifo === 'fifo' },
      apiAuthorization: authorizationFromContext(context),
      ...(context.console
        ? { console: context.consolePath ? { assetPath: context.consolePath } : {} }
        : {}),
      apiThrottle: { rateLimit: context.apiRateLimit, burstLimit: context.apiBurstLimit },
      kinesisCapacity:
        context.shardCount === undefined
          ? { mode: 'on-demand' }
          : { mode: 'provisioned', shardCount: context.shardCount },
      ingest: {
        ...(context.batchSize === undefined ? {} : { batchSize: context.batchSize }),
        ...(context.batchingWindowSeconds === undefined
          ? {}
          : { maxBatchingWindow: Duration.seconds(context.batchingWindowSeconds) }),
      },
      retention: {
        ...(context.streamRetentionHours === undefined
          ? {}
          : { streams: Duration.hours(context.streamRetentionHours) }),
      },
      removalPolicy:
        context.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
      alarms: { emailAddresses: context.alarmEmail ?? [] },
      concurrency: {
        ingest: context.ingestConcurrency,
        api: context.apiConcurrency,
        reset: context.resetConcurrency,
      },
      ...(context.periodEndWindowMinutes === undefined
        ? {}
        : { periodEndWindow: Duration.minutes(context.periodEndWindowMinutes) }),
      ...(context.historyRetentionDays === undefined
        ? {}
        : { historyRetention: Duration.days(context.historyRetentionDays) }),
    },
  };
}

function authorizationFromContext(context: AppContext): ApiAuthorization {
  const kind = authOf(context);
  if (kind === 'cognito') {
    return context.cognitoDomainPrefix
      ? { kind, domainPrefix: context.cognitoDomainPrefix }
      : { kind };
  }
  if (kind === 'iam') return { kind };
  return {
    kind,
    issuer: context.jwtIssuer ?? '',
    audience: context.jwtAudience ?? [],
    scopes: {
      read: context.jwtReadScope,
      write: context.jwtWriteScope,
      admin: context.jwtAdminScope,
    },
  };
}
