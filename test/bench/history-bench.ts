/**
 * Section 4 of the bench, history: the DynamoDB writes the history adds to a flush, and what it
 * costs to read one user's year (12 monthly final records of each of 10 meters) back.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDbRecordHistory } from '../../shared/adapters/dynamodb/record-history.js';
import { buildMeteredRecord } from '../../shared/domain/metered-record.js';
import type { KeptRecord } from '../../shared/domain/record-history.js';
import type { FlushResult } from './flush-bench.js';
import { benchTable } from './harness.js';
import { fixed, int, type Row } from './report.js';

export interface HistoryReadResult {
  records: number;
  queries: number;
  pages: number;
  readUnits: number;
  bytes: number;
  ms: number;
}

/** A final record of one month of one meter, with a few groups, as the flush builds it. */
function monthRecord(meterId: string, userId: string, month: number) {
  const periodStart = Date.UTC(2025, month, 1);
  const periodEnd = Date.UTC(2025, month + 1, 1);
  const groups = Object.fromEntries(
    ['eu-west-1', 'us-east-1', 'ap-south-1'].map((region, i) => [
      `["${region}"]`,
      { values: { region }, value: String(100 + i * 10 + month), count: 10 + i, valueAt: null },
    ]),
  );
  return buildMeteredRecord({
    meter: {
      id: meterId,
      userId,
      meterKey: 'usage-events',
      meterTypeId: `type-${meterId.slice(0, 8)}`,
      meterTypeName: 'API calls',
      timezone: 'Europe/Berlin',
      unit: 'calls',
      aggregation: 'sum',
      createdAt: '2025-01-01T00:00:00.000Z',
      deleteOnReset: false,
      customFields: { plan: 'pro' },
    },
    period: { periodStart, periodEnd },
    aggregate: {
      value: String(400 + month),
      count: 43,
      groups,
      carryFirst: {},
      carryLast: {},
      firstUsageAt: periodStart + 1000,
      lastUsageAt: periodEnd - 1000,
      valueAt: null,
    },
    recordType: 'final',
    updatedAt: periodEnd,
    lateRecords: 0,
  });
}

/** Keeps 12 months of 10 meters of one user, then reads them back with one list call. */
export async function measureHistoryRead(endpoint: string): Promise<HistoryReadResult> {
  const table = await benchTable(endpoint);
  try {
    const history = new DynamoDbRecordHistory(table.client, table.tableName, 400);
    const userId = `user-${randomUUID()}`;
    const meters = Array.from({ length: 10 }, () => randomUUID());
    for (const meterId of meters) {
      await history.keep(Array.from({ length: 12 }, (_, m) => monthRecord(meterId, userId, m)));
    }
    table.stats.reset();
    const started = performance.now();
    const kept: KeptRecord[] = [];
    let pages = 0;
    let nextToken: string | undefined;
    do {
      const page = await history.list(
        { userId, from: '2025-01-01T00:00:00.000Z', to: '2026-01-01T00:00:00.000Z' },
        1000,
        nextToken,
      );
      kept.push(...page.items);
      nextToken = page.nextToken;
      pages++;
    } while (nextToken);
    const ms = performance.now() - started;
    const stats = table.stats.snapshot();
    if (kept.length !== 120) throw new Error(`read ${kept.length} records, not 120`);
    return {
      records: kept.length,
      queries: stats.calls.QueryCommand ?? 0,
      pages,
      readUnits: stats.readUnits,
      bytes: kept.reduce((n, k) => n + Buffer.byteLength(k.json), 0),
      ms,
    };
  } finally {
    table.client.destroy();
  }
}

/** The history's rows: extra writes per flush (from the flush bench), and the year's read. */
export function historyRows(flushes: FlushResult, read: HistoryReadResult): Row[] {
  const writes = flushes.callsPerFlush.BatchWriteItemCommand ?? 0;
  return [
    {
      section: '4',
      measure: 'extra DynamoDB writes per flush caused by the history',
      measured: `${fixed(writes, 2)} BatchWriteItem`,
      target: '≤ 1',
      ratio: writes <= 1 ? 'met' : 'missed',
      notes: `WCU on the history indexes: ${['gsi3', 'gsi4', 'gsi5'].map((i) => `${i} ${fixed(flushes.unitsPerFlush[i] ?? 0, 1)}`).join(', ')}`,
    },
    {
      section: '4',
      measure: "reading one user's 12 months over 10 meters (GET /metered-records?userId&from&to)",
      measured: `${int(read.queries)} Query, ${int(read.pages)} page`,
      target: 'one Query page',
      ratio: read.queries === 1 && read.pages === 1 ? 'met' : 'missed',
      notes: `${int(read.records)} records, ${fixed(read.bytes / 1024, 0)} KiB of JSON, ${fixed(read.readUnits, 1)} RCU, ${fixed(read.ms, 1)} ms`,
    },
  ];
}
