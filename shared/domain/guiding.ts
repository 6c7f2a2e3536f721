/**
 * Guiding rules (DOMAIN.md "Guiding rules"): which of a user's meters a usage record updates.
 * Rules are evaluated in order; the first rule whose condition matches and under whose
 * category the user has a meter wins, and the record updates every meter of that category.
 */
import { isStorableNumber, jsonDepth } from './schema-primitives.js';
import type { FieldValue } from './types.js';

/** How a condition compares: `eq` (the default) and `ne`, `in`, `exists`, `prefix`, `gt`…`lte`. */
export type ConditionOperator =
  | 'eq'
  | 'ne'
  | 'in'
  | 'exists'
  | 'prefix'
  | 'gt'
  | 'gte'
  | 'lt'
  | 'lte';

/** A scalar a condition compares with. */
export type ConditionValue = string | number | boolean;

/**
 * One typed, case-sensitive test on a record field. A field of another type than `type` (or a
 * missing one) matches no operator but `exists`, which asks only that the field is there (and
 * not null), of `type` when one is named.
 */
export interface GuidingCondition {
  field: string;
  /** Default `eq`. */
  op?: ConditionOperator;
  /** Required but for `exists`. */
  type?: 'string' | 'number' | 'boolean';
  /** A scalar of `type`; for `in`, an array of them; absent for `exists`. */
  value?: ConditionValue | ConditionValue[];
}

/** A guiding rule: conditions joined by one operator, routing to a category. */
export interface GuidingRule {
  name: string;
  /** Default `AND`. */
  operator?: 'AND' | 'OR';
  /** Absent or empty: the rule always matches. */
  conditions?: GuidingCondition[];
  category: string;
  groupBy?: string[];
}

/** Why a record could not be routed; also the data-correction reason code. */
export type RoutingFailureReason = 'NO_MATCHING_RULE' | 'NO_METER';

/** The outcome of routing one record. */
export type RoutingResult<M> =
  | { ok: true; rule: GuidingRule; meters: M[] }
  | { ok: false; reason: RoutingFailureReason };

/**
 * Reads a field by dotted path (`a.b`) through nested plain objects, own properties only.
 * Never reads through the prototype chain: `__proto__`, `constructor`, `toString` are
 * `undefined` unless they are own keys of the parsed JSON. Arrays are not traversed.
 * A dot always means nesting: a top-level key that itself contains a dot is not addressable.
 */
export function readField(record: Record<string, unknown>, path: string): unknown {
  if (!path.includes('.')) return Object.hasOwn(record, path) ? record[path] : undefined;
  let current: unknown = record;
  for (const segment of path.split('.')) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) {
      return undefined;
    }
    if (!Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/** Whether the rule's conditions match the record (no conditions: always). */
export function ruleMatches(rule: GuidingRule, record: Record<string, unknown>): boolean {
  const conditions = rule.conditions;
  if (conditions === undefined || conditions.length === 0) return true;
  const any = rule.operator === 'OR';
  for (const condition of conditions) {
    if (conditionMatches(condition, record) === any) return any;
  }
  return !any;
}

/** How one guiding rule judged a record: whether it matched, and whether the user has a meter under it. */
export interface RuleVerdict {
  name: string;
  category: string;
  matches: boolean;
  /** Whether the user has a meter (that still takes usage) in the rule's category. */
  hasMeter: boolean;
}

/**
 * Every rule's verdict on a record, in order, with the same `ruleMatches` routing uses: the
 * record goes to the first rule that matches and has a meter (none: why not, rule by rule).
 */
export function explainRules(
  rules: readonly GuidingRule[],
  record: Record<string, unknown>,
  categoriesWithMeters: ReadonlySet<string>,
): RuleVerdict[] {
  return rules.map((rule) => ({
    name: rule.name,
    category: rule.category,
    matches: ruleMatches(rule, record),
    hasMeter: categoriesWithMeters.has(rule.category),
  }));
}

/** Routes a record to the meters of the first matching rule whose category the user has. */
export function routeRecord<M extends { category: string }>(
  rules: readonly GuidingRule[],
  record: Record<string, unknown>,
  userMeters: readonly M[],
): RoutingResult<M> {
  return createRouter(rules, userMeters)(record);
}

// Shared by every record they describe, so frozen.
const NO_MATCHING_RULE = Object.freeze({ ok: false, reason: 'NO_MATCHING_RULE' } as const);
const NO_METER = Object.freeze({ ok: false, reason: 'NO_METER' } as const);

/**
 * `routeRecord` for many records of one user: each rule's meters are looked up once, and the
 * same result object is returned for every record the rule routes (treat it as read-only).
 */
export function createRouter<M extends { category: string }>(
  rules: readonly GuidingRule[],
  userMeters: readonly M[],
): (record: Record<string, unknown>) => RoutingResult<M> {
  const router = new GuidingRouter(rules, userMeters);
  return (record) => router.route(record);
}

/**
 * What `createRouter` returns, as an object: ingestion builds one for every user of every batch,
 * and a class costs less to make than the closures a function would build each time.
 */
export class GuidingRouter<M extends { category: string }> {
  // Per rule: its result, or null when the user has no meter in its category (made on first use).
  private readonly routes: (RoutingResult<M> | null | undefined)[];

  constructor(
    private readonly rules: readonly GuidingRule[],
    private readonly userMeters: readonly M[],
  ) {
    this.routes = new Array(rules.length);
  }

  route(record: Record<string, unknown>): RoutingResult<M> {
    let anyRuleMatched = false;
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i] as GuidingRule;
      if (!ruleMatches(rule, record)) continue;
      anyRuleMatched = true;
      // A rule that matches but finds no meter passes the record on to the next rule.
      const route = this.routeOf(i, rule);
      if (route !== null) return route;
    }
    return anyRuleMatched ? NO_METER : NO_MATCHING_RULE;
  }

  private routeOf(index: number, rule: GuidingRule): RoutingResult<M> | null {
    let route = this.routes[index];
    if (route === undefined) {
      const meters: M[] = [];
      for (const meter of this.userMeters) if (meter.category === rule.category) meters.push(meter);
      route = meters.length > 0 ? Object.freeze({ ok: true, rule, meters } as const) : null;
      this.routes[index] = route;
    }
    return route;
  }
}

/** Group-by and carried values are kept in the meter: each must be small and storable. */
export const MAX_FIELD_VALUE_LENGTH = 256;
const MAX_FIELD_VALUE_DEPTH = 8;

/**
 * A record field as a value a meter can keep (group-by, carry): missing -> null; strings up to
 * 256 characters; numbers within ±(2^53 − 1); small objects or arrays as their JSON text.
 * Anything else is refused with what is wrong, so the record goes to data correction.
 */
export function storedFieldValue(
  value: unknown,
): { ok: true; value: FieldValue } | { ok: false; problem: string } {
  const tooLong = {
    ok: false,
    problem: `must be at most ${MAX_FIELD_VALUE_LENGTH} characters`,
  } as const;
  if (value === undefined || value === null) return { ok: true, value: null };
  if (typeof value === 'boolean') return { ok: true, value };
  if (typeof value === 'string')
    return value.length <= MAX_FIELD_VALUE_LENGTH ? { ok: true, value } : tooLong;
  if (typeof value === 'number') {
    return isStorableNumber(value)
      ? { ok: true, value }
      : {
          ok: false,
          problem: `must be a number between -${Number.MAX_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}`,
        };
  }
  if (typeof value === 'object') {
    if (jsonDepth(value, MAX_FIELD_VALUE_DEPTH) > MAX_FIELD_VALUE_DEPTH) {
      return {
        ok: false,
        problem: `must not be nested deeper than ${MAX_FIELD_VALUE_DEPTH} levels`,
      };
    }
    const text = JSON.stringify(value);
    return text.length <= MAX_FIELD_VALUE_LENGTH ? { ok: true, value: text } : tooLong;
  }
  return { ok: true, value: null };
}

/** Field values a meter keeps, or what is wrong with the first one it cannot keep. */
export type KeptValues =
  | { ok: true; values: Record<string, FieldValue> | undefined }
  | { ok: false; message: string };

/**
 * The storable values of these fields of a record (see `storedFieldValue`), or undefined when
 * none are kept; with `skipMissing` an absent field is left out rather than kept as null.
 */
export function keptValuesOf(
  record: Record<string, unknown>,
  fields: Iterable<string>,
  skipMissing: boolean,
): KeptValues {
  const values: [string, FieldValue][] = [];
  for (const field of fields) {
    const raw = readField(record, field);
    if (raw === undefined && skipMissing) continue;
    const kept = storedFieldValue(raw);
    if (!kept.ok) return { ok: false, message: `${field}: ${kept.problem}` };
    values.push([field, kept.value]);
  }
  // Object.fromEntries defines own properties: a field named `__proto__` stays a plain key.
  return { ok: true, values: values.length > 0 ? Object.fromEntries(values) : undefined };
}

/**
 * The record's values of the rule's group-by fields (undefined when the rule has no groupBy):
 * a missing field gives null, a small object or array its JSON text.
 */
export function groupValuesOf(rule: GuidingRule, record: Record<string, unknown>): KeptValues {
  return keptValuesOf(record, rule.groupBy ?? [], false);
}

function conditionMatches(condition: GuidingCondition, record: Record<string, unknown>): boolean {
  const actual = readField(record, condition.field);
  const op = condition.op ?? 'eq';
  if (op === 'exists') {
    if (actual === undefined || actual === null) return false;
    return condition.type === undefined || typeof actual === condition.type;
  }
  // typeof first: a number field never equals the string condition '5', and vice versa, and a
  // missing field matches nothing (not even `ne`).
  if (typeof actual !== condition.type) return false;
  const value = condition.value;
  switch (op) {
    case 'eq':
      return actual === value;
    case 'ne':
      return actual !== value;
    case 'in':
      return Array.isArray(value) && value.includes(actual as ConditionValue);
    case 'prefix':
      return typeof value === 'string' && (actual as string).startsWith(value);
    default:
      return typeof value === 'number' && compareNumbers(op, actual as number, value);
  }
}

function compareNumbers(op: 'gt' | 'gte' | 'lt' | 'lte', actual: number, value: number): boolean {
  if (op === 'gt') return actual > value;
  if (op === 'gte') return actual >= value;
  if (op === 'lt') return actual < value;
  return actual <= value;
}
