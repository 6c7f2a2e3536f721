/**
 * The CDK app's settings from context (`npx cdk deploy -c destination=sns ...`), parsed with
 * zod so a typo fails the synth with a clear message instead of deploying something else.
 */
import { readFileSync } from 'node:fs';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { z } from 'zod';
import type { UsageMeteringStackProps } from './usage-metering-stack.js';

const list = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean),
);
const flag = z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);
const positiveInt = z.coerce.number().int().positive();

/** Context keys the app reads; all optional. */
export const appContextSchema = z
  .object({
    stackName: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/)
      .default('UsageMetering'),
    destination: z.enum(['sqs', 'sqs-fifo', 'sns', 'sns-fifo']).default('sqs'),
    auth: z.enum(['iam', 'jwt']).default('iam'),
    jwtIssuer: z.url().optional(),
    jwtAudience: list.optional(),
    jwtScopes: list.optional(),
    streamsFile: z.string().optional(),
    shardCount: positiveInt.optional(),
    batchSize: positiveInt.max(10_000).optional(),
    batchingWindowSeconds: z.coerce.number().int().min(0).max(300).optional(),
    streamRetentionHours: z.coerce.number().int().min(24).max(8760).optional(),
    removalPolicy: z.enum(['retain', 'destroy']).default('retain'),
    alarmEmail: list.optional(),
    customerManagedKey: flag.default(false),
  })
  .superRefine((context, ctx) => {
    if (context.auth === 'jwt' && (!context.jwtIssuer || !context.jwtAudience?.length)) {
      ctx.addIssue({
        code: 'custom',
        path: ['jwtIssuer'],
        message: 'auth=jwt needs -c jwtIssuer=https://... and -c jwtAudience=aud1,aud2',
      });
    }
  });

export type AppContext = z.infer<typeof appContextSchema>;

/** Reads the app's context keys; `tryGetContext` is `app.node.tryGetContext`. */
export function readAppContext(tryGetContext: (key: string) => unknown): AppContext {
  const raw = Object.fromEntries(
    Object.keys(appContextSchema.shape).map((key) => [key, tryGetContext(key)]),
  );
  const result = appContextSchema.safeParse(
    Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined)),
  );
  if (!result.success) {
    const problems = result.error.issues
      .map((issue) => `-c ${issue.path.join('.')}: ${issue.message}`)
      .join('; ');
    throw new Error(`invalid context: ${problems}`);
  }
  return result.data;
}

/** The stack props the context asks for. */
export function stackPropsFromContext(context: AppContext): UsageMeteringStackProps {
  const [kind, fifo] = context.destination.split('-') as ['sqs' | 'sns', string | undefined];
  return {
    stackName: context.stackName,
    customerManagedKey: context.customerManagedKey,
    metering: {
      ...(context.streamsFile ? { streams: readFileSync(context.streamsFile, 'utf8') } : {}),
      destination: { kind, fifo: fifo === 'fifo' },
      apiAuthorization:
        context.auth === 'jwt'
          ? {
              kind: 'jwt',
              issuer: context.jwtIssuer ?? '',
              audience: context.jwtAudience ?? [],
              ...(context.jwtScopes ? { scopes: context.jwtScopes } : {}),
            }
          : { kind: 'iam' },
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
    },
  };
}
