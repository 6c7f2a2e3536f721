/**
 * The chaos suite's oracle for `unique` meters: from the records the suite knows were counted,
 * and the time each was processed, which period of the meter each one counts in, hence the
 * distinct values every period (and every group in it) must report. A distinct value missing
 * from a period's count is lost; one counted twice is double-counted. A record refused with
 * UNIQUE_LIMIT_EXCEEDED must fall in a period holding maxDistinct values.
 */

/** What the oracle needs of a record sent. */
export interface UniqueFacts {
  sequenceNumber: string;
  /** The record's usage time (epoch ms). */
  usageTime: number;
  /** The clock when its batch was delivered (every retry of it too). */
  processedAt: number;
  /** The unique field's value (`undefined`: absent). */
  deviceId: unknown;
  region: string;
}

/** A period of a meter as published (a final) or shown (the open one). */
export interface PeriodSeen {
  periodStart: string;
  periodEnd: string;
  value: number | string | null;
  meterMetaData: { recordCount: number };
  groups: readonly {
    fields: Record<string, unknown>;
    value: number | string | null;
    count: number;
  }[];
}

export interface UniqueMeterFacts {
  id: string;
  gracePeriodSeconds: number;
  maxDistinct?: number;
  /** The guiding rule groups by `region`. */
  grouped: boolean;
}

/** The same value of a different type is a different value: "7" and 7 differ. */
export const valueKey = (value: unknown) => `${typeof value}:${String(value)}`;

/**
 * The index of the period a record counts in. Ingestion (and the period end) closes a period once
 * the clock passes its end plus grace, so when the record was processed the open period was the
 * first one not yet closable; a record before it is late and counts in it, one after its end (in
 * grace) counts in the next.
 */
export function periodIndexOf(
  periods: readonly Pick<PeriodSeen, 'periodStart' | 'periodEnd'>[],
  gracePeriodSeconds: number,
  record: Pick<UniqueFacts, 'usageTime' | 'processedAt'>,
): number {
  const open = periods.findIndex(
    (p) => record.processedAt < Date.parse(p.periodEnd) + gracePeriodSeconds * 1000,
  );
  if (open < 0) return periods.length;
  const period = periods[open] as PeriodSeen;
  return record.usageTime >= Date.parse(period.periodEnd) ? open + 1 : open;
}

export interface UniqueVerdict {
  lost: number;
  doubleCounted: number;
  problems: string[];
  /** Per period index: the value keys counted (to judge refusals). */
  counted: Set<string>[];
}

/** Compares one count with the distinct values expected, adding to lost or double-counted. */
function compare(verdict: UniqueVerdict, what: string, got: unknown, expected: number): void {
  const value = Number(got ?? 0);
  if (value === expected) return;
  verdict.lost += Math.max(0, expected - value);
  verdict.doubleCounted += Math.max(0, value - expected);
  verdict.problems.push(`${what}: ${value} distinct values, expected ${expected}`);
}

/** Checks every period (and group) of a unique meter against the records counted in it. */
export function checkUniqueMeter(
  meter: UniqueMeterFacts,
  periods: readonly PeriodSeen[],
  counted: readonly UniqueFacts[],
): UniqueVerdict {
  const verdict: UniqueVerdict = { lost: 0, doubleCounted: 0, problems: [], counted: [] };
  const byPeriod = periods.map(() => [] as UniqueFacts[]);
  for (const record of counted) {
    const index = periodIndexOf(periods, meter.gracePeriodSeconds, record);
    const list = byPeriod[index];
    if (list) list.push(record);
    else {
      verdict.lost++;
      verdict.problems.push(`record ${record.sequenceNumber} falls after the last period`);
    }
  }
  periods.forEach((period, i) => {
    const records = byPeriod[i] ?? [];
    const what = `meter ${meter.id} period ${period.periodStart}`;
    const distinct = new Set(records.map((r) => valueKey(r.deviceId)));
    verdict.counted.push(distinct);
    compare(verdict, what, period.value, distinct.size);
    if (period.meterMetaData.recordCount !== records.length) {
      verdict.problems.push(
        `${what}: ${period.meterMetaData.recordCount} records, expected ${records.length}`,
      );
    }
    if (!meter.grouped) return;
    const regions = new Map<string, UniqueFacts[]>();
    for (const r of records) regions.set(r.region, [...(regions.get(r.region) ?? []), r]);
    const shown = new Map(period.groups.map((g) => [String(g.fields.region), g]));
    for (const region of new Set([...regions.keys(), ...shown.keys()])) {
      const inGroup = regions.get(region) ?? [];
      const group = shown.get(region);
      compare(
        verdict,
        `${what} group ${region}`,
        group?.value,
        new Set(inGroup.map((r) => valueKey(r.deviceId))).size,
      );
      if ((group?.count ?? 0) !== inGroup.length) {
        verdict.problems.push(
          `${what} group ${region}: ${group?.count ?? 0} records, expected ${inGroup.length}`,
        );
      }
    }
  });
  return verdict;
}

/**
 * Whether a unique meter justifies refusing a record with UNIQUE_LIMIT_EXCEEDED: the period the
 * record falls in holds maxDistinct values. Usually none of them is the record's, but a refusal
 * is stored before the meters are written, and stays when the write then meets a conflict: by
 * then another shard may have counted the same value (the record is then refused, not lost:
 * its value counts).
 */
export function justifiesRefusal(
  meter: UniqueMeterFacts,
  periods: readonly PeriodSeen[],
  verdict: UniqueVerdict,
  record: UniqueFacts,
): boolean {
  if (meter.maxDistinct === undefined) return false;
  const index = periodIndexOf(periods, meter.gracePeriodSeconds, record);
  const counted = verdict.counted[index];
  return counted !== undefined && counted.size >= meter.maxDistinct;
}
