/** The meter type form's state: every field as the user typed it, and the body it sends. */
import type { MeterType, MeterTypeCreate, ResetSchedule, Schemas } from '../api/schemas.js';

export interface ThresholdDraft {
  name: string;
  kind: 'value' | 'percent';
  amount: string;
}

export interface MeterTypeDraft {
  name: string;
  description: string;
  externalRef: string;
  category: string;
  unit: string;
  aggregation: MeterTypeCreate['aggregation']['type'];
  /** `unique` only: the record field whose distinct values are counted. */
  uniqueField: string;
  /** `unique` only: blank means the API's default. */
  maxDistinct: string;
  resetSchedule: ResetSchedule;
  timezone: string;
  activeFrom: string;
  activeTo: string;
  capacity: string;
  capacityPolicy: 'notify' | 'reject';
  gracePeriodSeconds: string;
  thresholds: ThresholdDraft[];
}

export const EMPTY_DRAFT: MeterTypeDraft = {
  name: '',
  description: '',
  externalRef: '',
  category: '',
  unit: '',
  aggregation: 'sum',
  uniqueField: '',
  maxDistinct: '',
  resetSchedule: { minute: '0', hour: '0', day: '1', month: '*', weekday: '*' },
  timezone: 'Etc/UTC',
  activeFrom: '',
  activeTo: '',
  capacity: '',
  capacityPolicy: 'notify',
  gracePeriodSeconds: '0',
  thresholds: [],
};

/** The form's state for an existing meter type. */
export function draftOf(type: MeterType): MeterTypeDraft {
  return {
    name: type.name,
    description: type.description ?? '',
    externalRef: type.externalRef ?? '',
    category: type.category,
    unit: type.unit,
    aggregation: type.aggregation.type,
    uniqueField: type.aggregation.field ?? '',
    maxDistinct:
      type.aggregation.maxDistinct === undefined ? '' : String(type.aggregation.maxDistinct),
    resetSchedule: { ...type.resetSchedule },
    timezone: type.timezone,
    activeFrom: type.activeFrom ?? '',
    activeTo: type.activeTo ?? '',
    capacity: type.capacity === undefined ? '' : String(type.capacity),
    capacityPolicy: type.capacityPolicy,
    gracePeriodSeconds: String(type.gracePeriodSeconds),
    thresholds: type.thresholds.map((threshold) =>
      'percent' in threshold
        ? { name: threshold.name, kind: 'percent', amount: String(threshold.percent) }
        : { name: threshold.name, kind: 'value', amount: String(threshold.value) },
    ),
  };
}

/** A number field as typed: a number when it reads as one, else the text (the API names it). */
function numberOr(text: string): number {
  const trimmed = text.trim();
  return trimmed !== '' && Number.isFinite(Number(trimmed))
    ? Number(trimmed)
    : (trimmed as unknown as number);
}

type Threshold = Schemas['Threshold'];
function thresholdsOf(draft: MeterTypeDraft): Threshold[] {
  return draft.thresholds.map((t) =>
    t.kind === 'percent'
      ? { name: t.name, percent: numberOr(t.amount) }
      : { name: t.name, value: numberOr(t.amount) },
  );
}

/** The aggregation as sent: `field` and `maxDistinct` only with `unique`, and only when filled in. */
function aggregationOf(draft: MeterTypeDraft): MeterTypeCreate['aggregation'] {
  const aggregation: MeterTypeCreate['aggregation'] = { type: draft.aggregation };
  if (draft.aggregation !== 'unique') return aggregation;
  // A blank field is left out, so the API says it is required for unique.
  if (draft.uniqueField.trim()) aggregation.field = draft.uniqueField;
  if (draft.maxDistinct.trim()) aggregation.maxDistinct = numberOr(draft.maxDistinct);
  return aggregation;
}

/** The POST body: only what was filled in, so the API's defaults apply to the rest. */
export function createBody(draft: MeterTypeDraft): MeterTypeCreate {
  const body: MeterTypeCreate = {
    name: draft.name,
    category: draft.category || 'DEFAULT',
    unit: draft.unit,
    aggregation: aggregationOf(draft),
    resetSchedule: draft.resetSchedule,
    timezone: draft.timezone,
    capacityPolicy: draft.capacityPolicy,
    thresholds: thresholdsOf(draft),
    gracePeriodSeconds: numberOr(draft.gracePeriodSeconds || '0'),
  };
  if (draft.description) body.description = draft.description;
  if (draft.externalRef) body.externalRef = draft.externalRef;
  if (draft.activeFrom) body.activeFrom = draft.activeFrom;
  if (draft.activeTo) body.activeTo = draft.activeTo;
  if (draft.capacity) body.capacity = numberOr(draft.capacity);
  return body;
}

/** The PATCH body: every field that may change; a cleared optional field is removed (null). */
export function updateBody(draft: MeterTypeDraft): Schemas['MeterTypeUpdate'] {
  return {
    description: draft.description || null,
    externalRef: draft.externalRef || null,
    category: draft.category || 'DEFAULT',
    unit: draft.unit,
    resetSchedule: draft.resetSchedule,
    timezone: draft.timezone,
    activeFrom: draft.activeFrom || null,
    activeTo: draft.activeTo || null,
    capacity: draft.capacity ? numberOr(draft.capacity) : null,
    capacityPolicy: draft.capacityPolicy,
    thresholds: thresholdsOf(draft),
    gracePeriodSeconds: numberOr(draft.gracePeriodSeconds || '0'),
  };
}
