/** Helpers to acknowledge cdk-nag findings precisely, each with its reason. */
import { Stack, Validations } from 'aws-cdk-lib';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges AwsSolutions-IAM5 for one wildcard resource of the policies under `scope`.
 * The finding id names the resource as cdk-nag renders it, so only that resource is excused:
 * any other wildcard added later is still reported.
 */
export function acknowledgeWildcardResource(
  scope: IConstruct,
  resource: string,
  reason: string,
): void {
  const rendered = flattenCfnReference(Stack.of(scope).resolve(resource));
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${rendered}]`, reason });
}

/** The cdk-nag rule packs the app runs. */
export type NagPack = 'AwsSolutions' | 'Serverless';

/** Acknowledges one cdk-nag rule of a pack on `scope` and everything below it. */
export function acknowledgeRule(
  scope: IConstruct,
  ruleId: string,
  reason: string,
  pack: NagPack = 'AwsSolutions',
): void {
  Validations.of(scope).acknowledge({ id: `${pack}-${ruleId}`, reason });
}
