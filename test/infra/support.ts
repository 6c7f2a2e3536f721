/** Synthesizes the stack for template assertions and reads policies out of the template. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import {
  UsageMeteringStack,
  type UsageMeteringStackProps,
} from '../../lib/usage-metering-stack.js';

export interface Synthesized {
  app: App;
  stack: UsageMeteringStack;
  template: Template;
  /** The template as JSON. */
  json: { Resources: Record<string, CfnResource>; Outputs?: Record<string, unknown> };
}

export interface CfnResource {
  Type: string;
  Properties?: any;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  DependsOn?: unknown;
}

export interface SynthOptions {
  /** Bundle the Lambdas with esbuild (slow); otherwise assets are placeholders. */
  bundle?: boolean;
  /** Run CDK's built-in CloudFormation validation. */
  cloudFormationValidation?: boolean;
  outdir?: string;
}

/** A fresh app with one UsageMeteringStack, synthesized. */
export function synthStack(
  props: UsageMeteringStackProps = {},
  options: SynthOptions = {},
): Synthesized {
  const app = new App({
    outdir: options.outdir ?? mkdtempSync(path.join(tmpdir(), 'usage-metering-cdk-')),
    builtinCloudFormationValidation: options.cloudFormationValidation ?? false,
    // An empty list of stacks to bundle skips esbuild: template tests need no code.
    context: options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] },
  });
  const stack = new UsageMeteringStack(app, 'UsageMetering', props);
  const template = Template.fromStack(stack);
  return { app, stack, template, json: template.toJSON() as Synthesized['json'] };
}

/** The logical ids of resources of one type. */
export function idsOfType(json: Synthesized['json'], type: string): string[] {
  return Object.entries(json.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([id]) => id);
}

export interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
  Principal?: unknown;
}

/** Every statement of the identity policies attached to a role (AWS::IAM::Policy + inline). */
export function roleStatements(json: Synthesized['json'], roleLogicalId: string): Statement[] {
  const statements: Statement[] = [];
  for (const resource of Object.values(json.Resources)) {
    if (resource.Type !== 'AWS::IAM::Policy') continue;
    const roles: unknown[] = resource.Properties.Roles ?? [];
    if (roles.some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleLogicalId }))) {
      statements.push(...resource.Properties.PolicyDocument.Statement);
    }
  }
  const role = json.Resources[roleLogicalId];
  for (const policy of role?.Properties?.Policies ?? []) {
    statements.push(...policy.PolicyDocument.Statement);
  }
  return statements;
}

/** The actions of a statement as an array. */
export function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** The resources of a statement as an array. */
export function resourcesOf(statement: Statement): unknown[] {
  if (statement.Resource === undefined) return [];
  return Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource];
}

/** Every policy statement anywhere in the template: identity, trust, resource and key policies. */
export function allStatements(
  json: Synthesized['json'],
): { resource: string; statement: Statement }[] {
  const found: { resource: string; statement: Statement }[] = [];
  const add = (resource: string, document: { Statement?: Statement[] } | undefined) => {
    for (const statement of document?.Statement ?? []) found.push({ resource, statement });
  };
  for (const [id, r] of Object.entries(json.Resources)) {
    const p = r.Properties ?? {};
    add(id, p.PolicyDocument);
    add(id, p.AssumeRolePolicyDocument);
    add(id, p.KeyPolicy);
    for (const policy of p.Policies ?? []) add(id, policy.PolicyDocument);
  }
  return found;
}

/** The value of one environment variable of a function, as it stands in the template. */
export function environmentOf(json: Synthesized['json'], functionLogicalId: string) {
  return (json.Resources[functionLogicalId]?.Properties?.Environment?.Variables ?? {}) as Record<
    string,
    unknown
  >;
}

/** A folder with a stub index.html, standing in for `console/dist` (a test fixture). */
export function stubConsole(): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'console-stub-'));
  writeFileSync(path.join(folder, 'index.html'), '<!doctype html><title>stub</title>');
  return folder;
}
