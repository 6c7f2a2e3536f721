/** Synth-time checks of the configuration: streams, environment size, ingest settings, context. */
import { App, Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { readAppContext, stackPropsFromContext } from '../../lib/app-context.js';
import { InvalidStreamsPropError } from '../../lib/constructs/usage-streams.js';
import { UsageMeteringStack } from '../../lib/usage-metering-stack.js';
import { ALL_ROUTE_SPECS } from '../../shared/http/route-specs.js';
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

describe('ingest settings', () => {
  it('refuses a record age the stream retention would outlive', () => {
    expect(() =>
      build({
        metering: {
          ingest: { maxRecordAge: Duration.hours(24) },
          retention: { streams: Duration.hours(24) },
        },
      }),
    ).toThrow(/maxRecordAge .* must be shorter than the stream retention/);
  });
});

describe('app context', () => {
  const context = (values: Record<string, unknown>) => (key: string) => values[key];

  it('defaults to SQS, IAM, on-demand and retained data', () => {
    const props = stackPropsFromContext(readAppContext(context({})));
    expect(props.stackName).toBe('UsageMetering');
    expect(props.metering?.destination).toEqual({ kind: 'sqs', fifo: false });
    expect(props.metering?.apiAuthorization).toEqual({ kind: 'iam' });
    expect(props.metering?.kinesisCapacity).toEqual({ mode: 'on-demand' });
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
    });
    expect(props.metering?.kinesisCapacity).toEqual({ mode: 'provisioned', shardCount: 3 });
    expect(props.metering?.ingest?.batchSize).toBe(250);
    expect(props.metering?.ingest?.maxBatchingWindow?.toSeconds()).toBe(2);
    expect(props.customerManagedKey).toBe(true);
    expect(props.metering?.alarms?.emailAddresses).toEqual(['ops@example.com']);
  });

  it('refuses unknown values with a message that names the -c key', () => {
    expect(() => readAppContext(context({ destination: 'kafka' }))).toThrow(/-c destination/);
    expect(() => readAppContext(context({ auth: 'jwt' }))).toThrow(/jwtIssuer/);
    expect(() => readAppContext(context({ batchSize: '0' }))).toThrow(/-c batchSize/);
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

  it('creates the routes of a stack with JWT the same way', () => {
    const synth = synthStack({
      metering: {
        apiAuthorization: { kind: 'jwt', issuer: 'https://i.example.com/', audience: ['a'] },
      },
    });
    synth.template.resourceCountIs('AWS::ApiGatewayV2::Route', ALL_ROUTE_SPECS.length);
  });
});
