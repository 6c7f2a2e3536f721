/**
 * Core value types of the metering domain. Field names follow DOMAIN.md (the API's names).
 * Times inside the domain are epoch milliseconds (numbers) unless a name says ISO.
 */

/** How a meter combines the values of its usage records. */
export type AggregationType = 'sum' | 'increment' | 'min' | 'max' | 'last' | 'average' | 'unique';

/** Cron-like reset schedule, evaluated in the meter type's time zone. */
export interface ResetSchedule {
  minute: string;
  hour: string;
  day: string;
  month: string;
  weekday: string;
}

/** A threshold: absolute `value`, or `percent` of the meter type's capacity. */
export type Threshold = { name: string; value: number } | { name: string; percent: number };

export type CapacityPolicy = 'notify' | 'reject';

/** A half-open period [periodStart, periodEnd) in epoch milliseconds. */
export interface Period {
  periodStart: number;
  periodEnd: number;
}

/** A scalar field value a guiding rule, group-by or carry operation can read. */
export type FieldValue = string | number | boolean | null;
