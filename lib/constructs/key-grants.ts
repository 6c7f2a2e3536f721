/** Conditions that keep a customer managed key's grants to the one service that needs it. */
import { Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** The AWS services whose data this service encrypts with a customer managed key. */
export type KeyUsingService = 'dynamodb' | 'kinesis' | 'sqs' | 'sns';

/**
 * `kms:ViaService` for a grant: the principal may use the key only in requests that this
 * service makes on its behalf in the stack's Region, never directly.
 */
export function viaService(
  scope: IConstruct,
  service: KeyUsingService,
): Record<string, Record<string, string>> {
  const stack = Stack.of(scope);
  return {
    StringEquals: { 'kms:ViaService': `${service}.${stack.region}.${stack.urlSuffix}` },
  };
}
