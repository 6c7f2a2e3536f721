/**
 * The history of metered records (DESIGN.md 2.8): every record sent is kept once per recordId,
 * as the exact JSON that was sent, until its retention ends. Pure rules: when a kept record may
 * expire, which records a filter selects, and the CSV export's rows.
 */
import { decimalText } from './exact-decimal.js';
import type { MeteredRecord, MeteredRecordType } from './metered-record.js';

/** How long a record is kept after its period end unless configured otherwise. */
export const DEFAULT_HISTORY_RETENTION_DAYS = 400;

/** A record as kept: its JSON exactly as it was sent, and the record it parses to. */
export interface KeptRecord {
  json: string;
  record: MeteredRecord;
}

/** What `GET /metered-records` selects; `from` and `to` bound `periodEnd`, both inclusive. */
export interface RecordHistoryFilter {
  userId?: string;
  meterId?: string;
  meterTypeId?: string;
  meterKey?: string;
  recordType?: MeteredRecordType;
  /** ISO timestamp (UTC, milliseconds). */
  from?: string;
  to?: string;
}

/**
 * Epoch seconds after which the kept record may be deleted: its period end plus the retention.
 * It depends on the record alone, so a retried flush writes the same item again.
 */
export function historyExpiresAt(record: MeteredRecord, retentionDays: number): number {
  return Math.floor(Date.parse(record.periodEnd) / 1000) + retentionDays * 86_400;
}

/** Whether a record matches every given part of the filter. */
export function matchesHistoryFilter(record: MeteredRecord, filter: RecordHistoryFilter): boolean {
  return (
    (filter.userId === undefined || record.userId === filter.userId) &&
    (filter.meterId === undefined || record.id === filter.meterId) &&
    (filter.meterTypeId === undefined || record.meterTypeId === filter.meterTypeId) &&
    (filter.meterKey === undefined || record.meterKey === filter.meterKey) &&
    (filter.recordType === undefined || record.recordType === filter.recordType) &&
    (filter.from === undefined || record.periodEnd >= filter.from) &&
    (filter.to === undefined || record.periodEnd <= filter.to)
  );
}

/** The history's order: newest period end first, then by recordId (descending). */
export function newestFirst(a: MeteredRecord, b: MeteredRecord): number {
  const ka = `${a.periodEnd}#${a.recordId}`;
  const kb = `${b.periodEnd}#${b.recordId}`;
  return ka < kb ? 1 : ka > kb ? -1 : 0;
}

/**
 * The columns of the CSV export, in order. `groups` is flattened to one JSON cell
 * (`[{"fields":{…},"value":…,"count":…}]`, values as in the JSON record), as are `customFields`, `carryFirst` and `carryLast`.
 * `averageSum` and `averageCount` are empty but for `average` meters.
 */
export const HISTORY_CSV_COLUMNS = [
  'recordId',
  'recordType',
  'threshold',
  'meterId',
  'userId',
  'meterKey',
  'meterTypeId',
  'meterTypeName',
  'periodStart',
  'periodEnd',
  'timezone',
  'value',
  'averageSum',
  'averageCount',
  'unit',
  'recordCount',
  'lateRecords',
  'firstUsageAt',
  'lastUsageAt',
  'createdAt',
  'updatedAt',
  'deleteOnReset',
  'groups',
  'carryFirst',
  'carryLast',
  'customFields',
] as const;

function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV row (no line end) of a record, in HISTORY_CSV_COLUMNS order. */
export function historyCsvRow(record: MeteredRecord): string {
  const cells: Record<(typeof HISTORY_CSV_COLUMNS)[number], unknown> = {
    recordId: record.recordId,
    recordType: record.recordType,
    threshold: record.threshold,
    meterId: record.id,
    userId: record.userId,
    meterKey: record.meterKey,
    meterTypeId: record.meterTypeId,
    meterTypeName: record.meterTypeName,
    periodStart: record.periodStart,
    periodEnd: record.periodEnd,
    timezone: record.timezone,
    // The exact decimal text, never a number's exponent form (`1e-9`).
    value: decimalText(record.value),
    // `average` only: the exact sum and count behind the mean in `value`.
    averageSum: record.average?.sum,
    averageCount: record.average?.count,
    unit: record.unit,
    recordCount: record.meterMetaData.recordCount,
    lateRecords: record.meterMetaData.lateRecords,
    firstUsageAt: record.meterMetaData.firstUsageAt,
    lastUsageAt: record.meterMetaData.lastUsageAt,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    deleteOnReset: record.deleteOnReset,
    groups: record.groups,
    carryFirst: record.carryFirst,
    carryLast: record.carryLast,
    customFields: record.customFields,
  };
  return HISTORY_CSV_COLUMNS.map((column) => csvCell(cells[column])).join(',');
}

/** A CSV document: the header row and one row per record, CRLF line ends (RFC 4180). */
export function historyCsv(records: readonly MeteredRecord[]): string {
  return [HISTORY_CSV_COLUMNS.join(','), ...records.map(historyCsvRow)]
    .map((line) => `${line}\r\n`)
    .join('');
}
