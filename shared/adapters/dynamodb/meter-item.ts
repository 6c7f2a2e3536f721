/**
 * The meter item: how a meter's state is stored and read back, in one place for the API, the
 * ingest path and the period-end flush. Live meters sit under (meterKey, userId) and on the
 * listing index; retired ones (deleted through the API) under their id; both are on the due
 * index while work is due.
 */
import type { DynamoDBDocumentClient, NativeAttributeValue } from '@aws-sdk/lib-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { MeterDefinition } from '../../domain/meter.js';
import { closableAt, emptyPeriodUsage, type MeterState } from '../../domain/meter-usage.js';
import { isConditionFailed, rethrowStoreError } from './errors.js';
import { itemKeys, LIST_PARTITIONS } from './table.js';

export type Item = Record<string, NativeAttributeValue>;

/** The due index is spread over 16 partitions by the first hex digit of the meter id. */
export function dueShardOf(meterId: string): string {
  return `DUE#${meterId.charAt(0).toLowerCase()}`;
}

/** Outbox records not sent by the prompt flush are picked up by the sweeper after this long. */
export const OUTBOX_SWEEP_DELAY_MS = 2 * 60 * 1000;

const STORAGE_ONLY = [
  'pk',
  'sk',
  'gsi1pk',
  'gsi1sk',
  'gsi2pk',
  'gsi2sk',
  'entity',
  'category',
] as const;

/** A meter's state from its item. */
export function meterStateOf(item: Item): MeterState {
  const copy: Item = { ...item };
  for (const field of STORAGE_ONLY) delete copy[field];
  return copy as MeterState;
}

/**
 * When the sweeper should look at a meter: its period's close, or soon when records wait in
 * the outbox; undefined when nothing will ever be due (an ended meter with an empty outbox).
 */
export function dueAtOf(state: MeterState, now: Date): string | undefined {
  const close = closableAt(state);
  const due =
    Object.keys(state.outbox).length > 0
      ? Math.min(close, now.getTime() + OUTBOX_SWEEP_DELAY_MS)
      : close;
  return Number.isFinite(due) ? new Date(due).toISOString() : undefined;
}

/** The full item of a meter state (live, or retired after an API delete). */
export function meterItemOf(state: MeterState, now: Date): Item {
  const keys =
    state.retiredAt !== undefined
      ? { ...itemKeys.retiredMeter(state.id), entity: 'retiredMeter' }
      : {
          ...itemKeys.meter(state.meterKey, state.userId, state.meterTypeId),
          entity: 'meter',
          gsi1pk: LIST_PARTITIONS.meters,
          gsi1sk: `${state.createdAt}#${state.id}`,
        };
  const dueAt = dueAtOf(state, now);
  return {
    ...state,
    ...keys,
    category: state.meterType.category,
    ...(dueAt ? { gsi2pk: dueShardOf(state.id), gsi2sk: dueAt } : {}),
  };
}

/** Replaces a meter's item if its version is unchanged; false on a conflict. */
export async function replaceMeterItem(
  client: DynamoDBDocumentClient,
  tableName: string,
  next: MeterState,
  expectedVersion: number,
): Promise<boolean> {
  try {
    await client.send(
      new PutCommand({
        TableName: tableName,
        Item: meterItemOf({ ...next, version: expectedVersion + 1 }, new Date(next.updatedAt)),
        ConditionExpression: '#id = :id AND #version = :version',
        ExpressionAttributeNames: { '#id': 'id', '#version': 'version' },
        ExpressionAttributeValues: { ':id': next.id, ':version': expectedVersion },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailed(error)) return false;
    rethrowStoreError(error);
  }
}

/** The item of a new meter: definition, empty usage, no applied positions, an empty outbox. */
export function newMeterItem(meter: MeterDefinition): Item {
  const state: MeterState = {
    ...meter,
    usage: emptyPeriodUsage(),
    next: emptyPeriodUsage(),
    seq: {},
    outbox: {},
    version: 1,
  };
  return meterItemOf(state, new Date(meter.createdAt));
}
