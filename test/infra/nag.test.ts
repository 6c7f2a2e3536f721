/**
 * cdk-nag AwsSolutions and Serverless: no unresolved finding in any configuration; every excuse
 * has a reason; the one CDK warning is the one that says no one hears the alarms.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { NO_ALARM_SUBSCRIBER_WARNING } from '../../lib/constructs/observability.js';
import type { UsageMeteringStackProps } from '../../lib/usage-metering-stack.js';
import { type Synthesized, stubConsole, synthStack } from './support.js';

const VARIANTS: Record<string, UsageMeteringStackProps> = {
  default: {},
  'console with Cognito sign-in, destroy on delete': {
    metering: { console: { assetPath: stubConsole() }, removalPolicy: RemovalPolicy.DESTROY },
  },
  'SNS FIFO, JWT, shards, customer managed key': {
    customerManagedKey: true,
    metering: {
      destination: { kind: 'sns', fifo: true },
      apiAuthorization: { kind: 'jwt', issuer: 'https://auth.example.com/', audience: ['m'] },
      kinesisCapacity: { mode: 'provisioned', shardCount: 2 },
      retention: { streams: Duration.days(3) },
    },
  },
  'SQS FIFO, destroy on delete, e-mail alarms': {
    metering: {
      destination: { kind: 'sqs', fifo: true },
      removalPolicy: RemovalPolicy.DESTROY,
      alarms: { emailAddresses: ['ops@example.com'] },
    },
  },
  'SNS standard, two streams': {
    metering: {
      destination: { kind: 'sns' },
      streams: [
        { name: 'calls', meterKey: 'calls', guidingRules: [{ name: 'all', category: 'DEFAULT' }] },
        { name: 'storage', meterKey: 'gb', guidingRules: [{ name: 'all', category: 'DEFAULT' }] },
      ],
    },
  },
};

/** Every acknowledgement recorded in the tree: rule id and reason. */
function acknowledgements(root: IConstruct): { path: string; id: string; reason: string }[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

/** The rule packs `bin/app.ts` runs on every synth. */
const packs = (scope: IConstruct) => [new AwsSolutionsChecks(scope), new ServerlessChecks(scope)];

const hasAlarmSubscriber = (props: UsageMeteringStackProps) => {
  const alarms = props.metering?.alarms;
  return Boolean(alarms?.topic || alarms?.emailAddresses?.length || alarms?.actions?.length);
};

describe.each(Object.entries(VARIANTS))(
  'cdk-nag AwsSolutions and Serverless: %s',
  (_name, props) => {
    let synth: Synthesized;
    beforeAll(() => {
      synth = synthStack(props);
    });

    it('reports no finding, error or warning', () => {
      for (const pack of packs(synth.app)) {
        const report = pack.validateScope(synth.app);
        const findings = report.violations.map(
          (v) =>
            `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
        );
        expect(findings).toEqual([]);
        expect(report.success).toBe(true);
      }
    });

    it('warns at synth exactly when no one would hear the alarms, and of nothing else', () => {
      const annotations = Annotations.fromStack(synth.stack);
      const warnings = annotations.findWarning('*', Match.anyValue());
      if (hasAlarmSubscriber(props)) {
        expect(warnings).toEqual([]);
      } else {
        expect(warnings).toHaveLength(1);
        expect(JSON.stringify(warnings[0]?.entry.data)).toContain(
          'No one is subscribed to the alarms',
        );
        expect(JSON.stringify(warnings[0]?.entry.data)).toContain(NO_ALARM_SUBSCRIBER_WARNING);
      }
      expect(annotations.findError('*', Match.anyValue())).toEqual([]);
    });

    it('gives every acknowledged finding a specific reason', () => {
      const acks = acknowledgements(synth.app);
      expect(acks.length).toBeGreaterThan(0);
      for (const ack of acks) {
        expect(ack.id, ack.path).toMatch(
          /^(AwsSolutions-[A-Z]+\d+(\[.+\])?|Serverless-[A-Za-z]+)$/,
        );
        expect(ack.reason.length, `${ack.path} ${ack.id}`).toBeGreaterThan(60);
      }
      // Wildcards are excused one resource at a time, never a whole rule.
      expect(acks.filter((a) => a.id === 'AwsSolutions-IAM5')).toEqual([]);
    });
  },
);

describe('the app as `cdk synth` runs it', () => {
  it('passes the AwsSolutions and Serverless plugins and CloudFormation validation at synth', () => {
    const synth = synthStack({}, { cloudFormationValidation: true });
    Validations.of(synth.app).addPlugins(...packs(synth.app));
    const assembly = synth.app.synth({ force: true });
    const reportFile = path.join(assembly.directory, 'validation-report.json');
    expect(existsSync(reportFile)).toBe(true);
    const report = JSON.parse(readFileSync(reportFile, 'utf8'));
    const violations = (report.pluginReports ?? []).flatMap(
      (plugin: { pluginName: string; violations?: { ruleName: string }[] }) =>
        (plugin.violations ?? []).map((v) => `${plugin.pluginName}: ${v.ruleName}`),
    );
    expect(violations).toEqual([]);
  }, 120_000);

  it('fails the synth when a finding is introduced (the checks do run)', () => {
    const synth = synthStack();
    new sqs.Queue(synth.stack, 'Unencrypted', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    Validations.of(synth.app).addPlugins(...packs(synth.app));
    expect(() => synth.app.synth({ force: true })).toThrow(/AwsSolutions-SQS2/);
  });

  it('fails the synth on a Serverless finding too', () => {
    const synth = synthStack();
    // A queue that is not a dead-letter queue and has none: Serverless-SQSRedrivePolicy.
    new sqs.Queue(synth.stack, 'NoRedrive', { enforceSSL: true });
    Validations.of(synth.app).addPlugins(...packs(synth.app));
    expect(() => synth.app.synth({ force: true })).toThrow(/SQSRedrivePolicy/);
  });
});
