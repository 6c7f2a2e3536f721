/** Synth-time checks of the configuration: streams, environment size, ingest settings, context. */
import { App, Duration, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { readAppContext, stackPropsFromContext } from '../../lib/app-context.js';
import { InvalidStreamsPropError } from '../../lib/constructs/usage-streams.js';
import { UsageMeteringStack } from '../../lib/usage-metering-stack.js';
import { ENV } from '../../shared/config/env-names.js';
import {
  readPeriodEndConfig,
  readStreamNames,
  readStreamRetentionMs,
} from '../../shared/config/runtime-config.js';
import type { AccessLevel } from '../../shared/http/access-levels.js';
import { ALL_ROUTE_KEYS, ALL_ROUTE_SPECS } from '../../shared/http/route-specs.js';
import { synthStack } from './support.js';

const stream = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  meterKey: name,
  guidingRules: [{ name: 'all', category: 'DEFAULT' }],
  ...extra,
});

function build(props: ConstructorParameters<typeof UsageMeteringStack>[2]) {
  const app = new App({
    context: { 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: false,
  });
  const stack = new UsageMeteringStack(app, 'UsageMetering', props);
  return { app, stack };
}

describe('stream configuration', () => {
  it('fails the synth, naming the field, when a stream is invalid', () => {
    expect(() => build({ metering: { streams: [stream('usage/events')] as never } })).toThrow(
      InvalidStreamsPropError,
    );
    expect(() => build({ metering: { streams: [stream('usage/events')] as never } })).toThrow(
      /invalid stream configuration: .*name.*Kinesis stream name/,
    );
  });

  it('fails the synth on duplicate names or a missing rule', () => {
    expect(() => build({ metering: { streams: [stream('a'), stream('a')] as never } })).toThrow(
      /duplicate name 'a'/,
    );
    expect(() =>
      build({ metering: { streams: [{ ...stream('a'), guidingRules: [] }] as never } }),
    ).toThrow(/guidingRules/);
  });

  it('fails the synth when the JSON text does not parse', () => {
    expect(() => build({ metering: { streams: '[{"name": ' } })).toThrow(/not valid JSON/);
  });

  it('accepts the configuration as JSON text', () => {
    const { stack } = build({ metering: { streams: JSON.stringify([stream('clicks')]) } });
    expect(stack.metering.streams.config.map((s) => s.name)).toEqual(['clicks']);
  });

  it('fails the synth when a Lambda environment would exceed 4 KB', () => {
    const description = 'x'.repeat(200);
    const streams = Array.from({ length: 20 }, (_, i) => stream(`stream-${i}`, { description }));
    const { app } = build({ metering: { streams } });
    expect(() => app.synth()).toThrow(/over Lambda's limit of 4096 bytes.*STREAMS_CONFIG/s);
  });

  it('accepts a configuration that fits', () => {
    const streams = Array.from({ length: 5 }, (_, i) => stream(`stream-${i}`));
    const { app, stack } = build({ metering: { streams } });
    expect(() => app.synth()).not.toThrow();
    for (const fn of stack.metering.functions) {
      expect(fn.environmentSizeEstimate()).toBeLessThan(4096);
    }
  });
});

describe('limits', () => {
  const resources = (stack: Stack, type: string) =>
    Object.values(Template.fromStack(stack).findResources(type));

  it('gives the period-end schedules the flexible window asked for, and refuses one too long', () => {
    const { stack } = build({ metering: { periodEndWindow: Duration.minutes(30) } });
    for (const fn of [stack.metering.periodEnd.reset, stack.metering.ingestion.ingest]) {
      const env = resources(stack, 'AWS::Lambda::Function').find(
        (f) => f.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME === fn.entry,
      )?.Properties.Environment.Variables;
      expect(env?.[ENV.scheduleFlexibleWindowMinutes]).toBe('30');
    }
    expect(() => build({ metering: { periodEndWindow: Duration.hours(25) } })).toThrow(
      /flexible window .* maximum of 1440 minutes/,
    );
  });

  it('keeps metered records 400 days by default, as long as asked, on every flushing Lambda', () => {
    const retentionOf = (stack: UsageMeteringStack) =>
      [
        stack.metering.periodEnd.reset,
        stack.metering.periodEnd.sweeper,
        stack.metering.ingestion.ingest,
      ].map(
        (fn) =>
          resources(stack, 'AWS::Lambda::Function').find(
            (f) => f.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME === fn.entry,
          )?.Properties.Environment.Variables[ENV.historyRetentionDays],
      );
    expect(retentionOf(build({}).stack)).toEqual(['400', '400', '400']);
    const asked = build({ metering: { historyRetention: Duration.days(730) } }).stack;
    expect(retentionOf(asked)).toEqual(['730', '730', '730']);
    expect(() => build({ metering: { historyRetention: Duration.days(0) } })).toThrow(
      /history retention/,
    );
  });

  it("tells the ingest Lambda the streams' retention (7 days by default), which bounds the version pins", () => {
    const ingestEnv = (stack: UsageMeteringStack) =>
      resources(stack, 'AWS::Lambda::Function').find(
        (f) =>
          f.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME ===
          stack.metering.ingestion.ingest.entry,
      )?.Properties.Environment.Variables[ENV.streamRetentionHours];
    expect(ingestEnv(build({}).stack)).toBe('168');
    const asked = build({ metering: { retention: { streams: Duration.hours(48) } } }).stack;
    expect(ingestEnv(asked)).toBe('48');
    const streams = resources(asked, 'AWS::Kinesis::Stream');
    expect(streams.map((s) => s.Properties.RetentionPeriodHours)).toEqual(streams.map(() => 48));
  });

  it('reserves no concurrency where 0 is asked for', () => {
    const { stack } = build({ metering: { concurrency: { ingest: 0, api: 0, reset: 0 } } });
    const reserved = resources(stack, 'AWS::Lambda::Function').map(
      (f) => f.Properties.ReservedConcurrentExecutions,
    );
    // Only the sweeper keeps its one: one sweep at a time.
    expect(reserved.filter((r) => r !== undefined)).toEqual([1]);
  });
});

describe('stages', () => {
  it('lets two stages share an account and Region: no fixed physical names', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stacks = ['dev', 'prod'].map(
      (stage) => new UsageMeteringStack(app, `UsageMetering-${stage}`, {}),
    );
    const namedProperties = [
      'TableName',
      'StreamName',
      'QueueName',
      'TopicName',
      'FunctionName',
      'RoleName',
      'LogGroupName',
      'DashboardName',
      'AlarmName',
    ];
    for (const stack of stacks) {
      const json = Template.fromStack(stack).toJSON() as { Resources: Record<string, any> };
      for (const [id, resource] of Object.entries(json.Resources)) {
        for (const property of namedProperties) {
          // A reference to another resource is fine; a literal is a fixed name.
          expect(typeof resource.Properties?.[property], `${id}.${property}`).not.toBe('string');
        }
        if (resource.Type === 'AWS::Kinesis::Stream')
          expect(resource.Properties.Name).toBeUndefined();
        // A name, where one must be given, is unique to the stack's lifetime.
        if (resource.Type === 'AWS::Scheduler::ScheduleGroup') {
          expect(JSON.stringify(resource.Properties.Name)).toContain('AWS::StackId');
        }
      }
    }
    // Two whole stacks are synthesized: slow when the machine is shared.
  }, 120_000);
});

describe('app context', () => {
  const context = (values: Record<string, unknown>) => values;

  it('defaults to SQS, IAM, on-demand and retained data', () => {
    const props = stackPropsFromContext(readAppContext(context({})));
    expect(props.stackName).toBe('UsageMetering');
    expect(props.metering?.destination).toEqual({ kind: 'sqs', fifo: false });
    expect(props.metering?.apiAuthorization).toEqual({ kind: 'iam' });
    expect(props.metering?.kinesisCapacity).toEqual({ mode: 'on-demand' });
    expect(props.metering?.apiThrottle).toEqual({});
    expect(props.customerManagedKey).toBe(false);
  });

  it('reads -c values as the CLI passes them (strings)', () => {
    const props = stackPropsFromContext(
      readAppContext(
        context({
          destination: 'sns-fifo',
          auth: 'jwt',
          jwtIssuer: 'https://issuer.example.com/',
          jwtAudience: 'a, b',
          jwtAdminScope: 'metering/admin',
          apiRateLimit: '12.5',
          apiBurstLimit: '40',
          shardCount: '3',
          batchSize: '250',
          batchingWindowSeconds: '2',
          customerManagedKey: 'true',
          alarmEmail: 'ops@example.com',
        }),
      ),
    );
    expect(props.metering?.destination).toEqual({ kind: 'sns', fifo: true });
    expect(props.metering?.apiAuthorization).toEqual({
      kind: 'jwt',
      issuer: 'https://issuer.example.com/',
      audience: ['a', 'b'],
      scopes: { admin: 'metering/admin' },
    });
    expect(props.metering?.apiThrottle).toEqual({ rateLimit: 12.5, burstLimit: 40 });
    expect(props.metering?.kinesisCapacity).toEqual({ mode: 'provisioned', shardCount: 3 });
    expect(props.metering?.ingest?.batchSize).toBe(250);
    expect(props.metering?.ingest?.maxBatchingWindow?.toSeconds()).toBe(2);
    expect(props.customerManagedKey).toBe(true);
    expect(props.metering?.alarms?.emailAddresses).toEqual(['ops@example.com']);
  });

  it('names the stack after the stage and tags it', () => {
    const props = stackPropsFromContext(readAppContext(context({ stage: 'dev' })));
    expect(props.stackName).toBe('UsageMetering-dev');
    expect(props.tags).toEqual({ 'usage-metering:stage': 'dev' });
    expect(
      stackPropsFromContext(readAppContext(context({ stage: 'dev', stackName: 'Billing' })))
        .stackName,
    ).toBe('Billing');
    expect(() => readAppContext(context({ stage: 'no spaces' }))).toThrow(/-c stage/);
  });

  it('reads the limits: concurrency and the period-end window', () => {
    const props = stackPropsFromContext(
      readAppContext(
        context({
          ingestConcurrency: '80',
          apiConcurrency: '0',
          resetConcurrency: '5',
          periodEndWindowMinutes: '0',
        }),
      ),
    );
    expect(props.metering?.concurrency).toEqual({ ingest: 80, api: 0, reset: 5 });
    expect(props.metering?.periodEndWindow?.toMinutes()).toBe(0);
    expect(() => readAppContext(context({ periodEndWindowMinutes: '1441' }))).toThrow(
      /-c periodEndWindowMinutes/,
    );
  });

  it('reads the history retention in days', () => {
    const props = stackPropsFromContext(readAppContext(context({ historyRetentionDays: '90' })));
    expect(props.metering?.historyRetention?.toDays()).toBe(90);
    expect(stackPropsFromContext(readAppContext(context({}))).metering?.historyRetention).toBe(
      undefined,
    );
    expect(() => readAppContext(context({ historyRetentionDays: '0' }))).toThrow(
      /-c historyRetentionDays/,
    );
  });

  it('refuses unknown keys and malformed e-mail addresses, and leaves the CDK its own', () => {
    expect(() => readAppContext(context({ alarmEmails: 'ops@example.com' }))).toThrow(
      /-c alarmEmails: unknown/,
    );
    expect(() =>
      readAppContext(context({ alarmEmail: 'ops@example.com, not-an-address' })),
    ).toThrow(/-c alarmEmail/);
    expect(
      readAppContext(
        context({
          '@aws-cdk/core:stackRelativeExports': true,
          'aws:cdk:bundling-stacks': ['**'],
          'acknowledged-issue-numbers': [1],
          alarmEmail: 'ops@example.com,billing@example.com',
        }),
      ).alarmEmail,
    ).toEqual(['ops@example.com', 'billing@example.com']);
  });

  it('refuses unknown values with a message that names the -c key', () => {
    expect(() => readAppContext(context({ destination: 'kafka' }))).toThrow(/-c destination/);
    expect(() => readAppContext(context({ auth: 'jwt' }))).toThrow(/jwtIssuer/);
    expect(() => readAppContext(context({ batchSize: '0' }))).toThrow(/-c batchSize/);
  });

  it('refuses scope names with spaces, the old jwtScopes, and limits that are not positive', () => {
    expect(() => readAppContext(context({ jwtReadScope: 'a b' }))).toThrow(/-c jwtReadScope/);
    // The list of scopes for every route is gone; the strict schema names the old key.
    expect(() => readAppContext(context({ jwtScopes: 'metering/write' }))).toThrow(/-c jwtScopes/);
    expect(() => readAppContext(context({ apiRateLimit: '0' }))).toThrow(/-c apiRateLimit/);
    expect(() => readAppContext(context({ apiRateLimit: 'fast' }))).toThrow(/-c apiRateLimit/);
    expect(() => readAppContext(context({ apiBurstLimit: '2.5' }))).toThrow(/-c apiBurstLimit/);
  });
});

describe('routes', () => {
  it('lists every route once, with a method API Gateway knows', () => {
    const keys = ALL_ROUTE_SPECS.map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toEqual(
      expect.arrayContaining([
        'POST /meter-types',
        'GET /meters/{id}',
        'POST /corrections/{id}/reprocess',
        'GET /streams',
      ]),
    );
  });

  it('gives each route the level its method implies, admin to re-sending, read to dry runs', () => {
    const declared: Record<string, AccessLevel> = {
      'POST /corrections/{id}/reprocess': 'admin',
      // Bulk re-send and delete: as admin as the single ones.
      'POST /corrections/reprocess': 'admin',
      'POST /corrections/delete': 'admin',
      'POST /metered-records/{recordId}/resend': 'admin',
      // Writes nothing: it shows what GET /meters already shows.
      'POST /streams/{name}/dry-run': 'read',
      // A stream's rules decide where every record of every user goes.
      'PUT /streams/{name}': 'admin',
    };
    const implied = {
      GET: 'read',
      POST: 'write',
      PUT: 'write',
      PATCH: 'write',
      DELETE: 'admin',
    } as const;
    for (const route of ALL_ROUTE_SPECS) {
      const key = `${route.method} ${route.path}`;
      expect(route.access, key).toBe(declared[key] ?? implied[route.method]);
    }
  });

  it('creates the routes of a stack with JWT the same way', () => {
    const synth = synthStack({
      metering: {
        apiAuthorization: { kind: 'jwt', issuer: 'https://i.example.com/', audience: ['a'] },
      },
    });
    // Every route, HEAD beside each GET, ANY per path (ALL_ROUTE_KEYS).
    synth.template.resourceCountIs('AWS::ApiGatewayV2::Route', ALL_ROUTE_KEYS.length);
  });
});

describe('runtime settings', () => {
  const base = {
    [ENV.tableName]: 'table',
    [ENV.streamsConfig]: '[]',
    [ENV.scheduleGroupName]: 'group',
    [ENV.schedulerRoleArn]: 'arn:aws:iam::123456789012:role/scheduler',
    [ENV.destinationKind]: 'sqs',
    [ENV.destinationQueueUrl]: 'https://sqs.eu-west-1.amazonaws.com/123456789012/records',
  };

  it('reads the Kinesis stream names, and names streams as configured without them', () => {
    expect(readStreamNames({ [ENV.streamNames]: '{"usage-events":"Stack-Stream-1"}' })).toEqual({
      'usage-events': 'Stack-Stream-1',
    });
    expect(readStreamNames({})).toEqual({});
    expect(() => readStreamNames({ [ENV.streamNames]: 'usage-events' })).toThrow(/not JSON/);
    expect(() => readStreamNames({ [ENV.streamNames]: '{"usage-events":5}' })).toThrow(
      /STREAM_NAMES must map/,
    );
  });

  it('reads the stream retention in whole hours as ms, undefined when absent, and refuses others', () => {
    expect(readStreamRetentionMs({})).toBeUndefined();
    expect(readStreamRetentionMs({ [ENV.streamRetentionHours]: '168' })).toBe(168 * 3_600_000);
    for (const bad of ['', '23', '8761', '1.5', 'week']) {
      expect(() => readStreamRetentionMs({ [ENV.streamRetentionHours]: bad })).toThrow(
        /STREAM_RETENTION_HOURS/,
      );
    }
  });

  it('reads the history retention in whole days, 400 when absent, and refuses others', () => {
    expect(readPeriodEndConfig(base)[ENV.historyRetentionDays]).toBe(400);
    expect(
      readPeriodEndConfig({ ...base, [ENV.historyRetentionDays]: '30' })[ENV.historyRetentionDays],
    ).toBe(30);
    for (const bad of ['0', '3651', '1.5', 'forever']) {
      expect(() => readPeriodEndConfig({ ...base, [ENV.historyRetentionDays]: bad })).toThrow(
        /HISTORY_RETENTION_DAYS/,
      );
    }
  });

  it('reads the flexible window in whole minutes, 0 when absent, and refuses others', () => {
    expect(readPeriodEndConfig(base)[ENV.scheduleFlexibleWindowMinutes]).toBe(0);
    expect(
      readPeriodEndConfig({ ...base, [ENV.scheduleFlexibleWindowMinutes]: '15' })[
        ENV.scheduleFlexibleWindowMinutes
      ],
    ).toBe(15);
    for (const bad of ['1441', '-1', '2.5', 'soon']) {
      expect(() =>
        readPeriodEndConfig({ ...base, [ENV.scheduleFlexibleWindowMinutes]: bad }),
      ).toThrow(/SCHEDULE_FLEXIBLE_WINDOW_MINUTES/);
    }
  });
});
