/**
 * Dry run of a stream (issue 13): what ingestion would do with some records, written nowhere.
 * It runs the ingestion rules themselves, in ingestion's order, on the meters as they are now:
 * 1. decode, enrich and validate each record (`parseUsageRecord`; arrival time: now);
 * 2. per user, read the meters once and make them ready as ingestion does (`prepareMeter`:
 *    an overdue period is closed in memory);
 * 3. route and place each record (`decide`), then admit the user's records against capacity
 *    and item size in the order given (`admitRecords`);
 * 4. describe every outcome (`decidedResult`), with each guiding rule's verdict;
 * 5. warn of rules that route to a category no meter type has.
 * Not run: de-duplication by `eventId` (it depends on records seen before, which a dry run
 * does not claim), and the records count nowhere.
 */
import { type DryRunResult, decidedResult, unreadableResult } from '../domain/dry-run.js';
import { explainRules } from '../domain/guiding.js';
import { type Decision, decide } from '../domain/ingest-decision.js';
import { admitRecords } from '../domain/record-admission.js';
import { ruleCategoryWarnings, type Warning } from '../domain/stream-reach.js';
import type { StreamConfig } from '../domain/stream-schemas.js';
import { parseUsageRecord, type UsageRecord } from '../domain/usage-record.js';
import { UserRouting } from '../domain/user-routing.js';
import type { CategoryCensus } from '../ports/category-census.js';
import type { UserMeterReader } from '../ports/user-meter-reader.js';
import { type MeterTypeLookup, type PreparedMeter, prepareMeter } from './ingest-write.js';

/** What a dry run needs: the users' meters and their types, the categories in use, the clock. */
export interface DryRunDeps {
  userMeters: UserMeterReader;
  categories: CategoryCensus;
  meterType: MeterTypeLookup;
  now: () => Date;
}

/** A dry run's records are no shard's: no meter has taken anything from this one. */
const DRY_RUN_SHARD = 'dry-run';

interface Readable {
  index: number;
  record: UsageRecord;
  seq: string;
}

const encoder = new TextEncoder();

/** A dry run's answer: one result per record, in the order given, and warnings on the rules. */
export interface DryRun {
  results: DryRunResult[];
  warnings: Warning[];
}

/**
 * What ingestion would do with each record, in the order given; writes nothing. `texts` holds
 * each record's JSON as sent, when known: ingestion reads a record's bytes, so a dry run reads
 * the same text rather than the parsed value written out again (which would turn a number past
 * double precision into its nearest double, or `1e400` into `null`).
 */
export async function dryRunStream(
  deps: DryRunDeps,
  stream: StreamConfig,
  records: readonly unknown[],
  texts?: readonly string[],
): Promise<DryRun> {
  const now = deps.now();
  const results: DryRunResult[] = new Array(records.length);
  const byUser = new Map<string, Readable[]>();
  records.forEach((input, index) => {
    const text = texts?.[index] ?? JSON.stringify(input);
    const parsed = parseUsageRecord(encoder.encode(text), now.getTime(), stream);
    if (!parsed.ok) {
      results[index] = unreadableResult(index, parsed.reason, parsed.message);
      return;
    }
    const readable = { index, record: parsed.record, seq: String(index + 1) };
    const list = byUser.get(parsed.record.userId);
    if (list) list.push(readable);
    else byUser.set(parsed.record.userId, [readable]);
  });
  for (const readables of byUser.values()) {
    for (const result of await dryRunUser(deps, stream, readables, now)) {
      results[result.index] = result;
    }
  }
  const inUse = await deps.categories.categoriesInUse(stream.guidingRules.map((r) => r.category));
  return { results, warnings: ruleCategoryWarnings(stream.guidingRules, inUse) };
}

/** The outcomes of one user's records, against that user's meters as they are now. */
async function dryRunUser(
  deps: DryRunDeps,
  stream: StreamConfig,
  readables: readonly Readable[],
  now: Date,
): Promise<DryRunResult[]> {
  const userId = readables[0]?.record.userId ?? '';
  const loaded = await deps.userMeters.loadMeters(stream.meterKey, userId);
  const prepared: PreparedMeter[] = await Promise.all(
    loaded.map((meter) => prepareMeter(deps.meterType, meter, now, stream)),
  );
  const meters = prepared.map((p) => p.state);
  const routing = new UserRouting(stream, meters);
  const decisions: Decision[] = readables.map((r) => decide(stream, r.record, routing, false));
  admitRecords(DRY_RUN_SHARD, readables, decisions, routing.anyRejectsOverCapacity);
  // The categories routing can reach: those of meters that still take usage (as UserRouting).
  const categories = new Set(
    meters.filter((m) => m.endedAt === undefined).map((m) => m.meterType.category),
  );
  return readables.map((r, i) =>
    decidedResult(
      r.index,
      r.record,
      explainRules(stream.guidingRules, r.record.fields, categories),
      decisions[i] as Decision,
      now,
    ),
  );
}
