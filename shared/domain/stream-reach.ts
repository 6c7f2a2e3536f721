/**
 * What the streams can reach (DOMAIN.md "Guiding rules"): a meter needs a stream with its meter
 * key, and a meter type's category needs a guiding rule that routes to it, or it never gets
 * usage. Pure.
 */
import type { StreamConfig } from './stream-schemas.js';

/** A remark on a request that succeeded but will likely not do what the caller meant. */
export interface Warning {
  /** Stable, e.g. `UNROUTED_CATEGORY`. */
  code: string;
  message: string;
}

/** The stream whose meter processor creates meters under this meter key, if any. */
export function streamOfMeterKey(
  streams: readonly StreamConfig[],
  meterKey: string,
): StreamConfig | undefined {
  return streams.find((stream) => stream.meterKey === meterKey);
}

/** Whether some guiding rule of some stream routes to the category. */
export function isCategoryRouted(streams: readonly StreamConfig[], category: string): boolean {
  return streams.some((stream) => stream.guidingRules.some((rule) => rule.category === category));
}

/** The warnings a meter type of this category deserves: none, or that no rule routes to it. */
export function categoryWarnings(streams: readonly StreamConfig[], category: string): Warning[] {
  if (isCategoryRouted(streams, category)) return [];
  return [
    {
      code: 'UNROUTED_CATEGORY',
      message: `no guiding rule of any stream routes to category '${category}': meters of this type will get no usage until a rule does`,
    },
  ];
}

/** The value with `warnings` added, left out when there are none. */
export function withWarnings<T extends object>(
  value: T,
  warnings: readonly Warning[],
): T & { warnings?: Warning[] } {
  return warnings.length === 0 ? value : { ...value, warnings: [...warnings] };
}

/** The warnings a stream configuration deserves: each rule routing to a category no meter type has. */
export function ruleCategoryWarnings(
  rules: readonly { name: string; category: string }[],
  categoriesInUse: ReadonlySet<string>,
): Warning[] {
  return rules
    .filter((rule) => !categoriesInUse.has(rule.category))
    .map((rule) => ({
      code: 'CATEGORY_WITHOUT_METER_TYPE',
      message: `rule '${rule.name}' routes to category '${rule.category}', which no meter type has: records it matches go to the next rule, or to data correction`,
    }));
}
