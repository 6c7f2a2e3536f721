/** How the console shows times, values and record bytes. */
import type { ComponentChildren } from 'preact';

export { decodeRecord, prettyJson, showValue } from './decode.js';

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat('en-GB', {
        timeZone,
        dateStyle: 'medium',
        timeStyle: 'medium',
      });
    } catch {
      formatter = new Intl.DateTimeFormat('en-GB', {
        timeZone: 'UTC',
        dateStyle: 'medium',
        timeStyle: 'medium',
      });
    }
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** An instant as wall time in `timeZone`, e.g. `1 Feb 2026, 00:00:00 (Europe/Stockholm)`. */
export function formatInstant(iso: string, timeZone: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${formatterFor(timeZone).format(date)} (${timeZone})`;
}

/** A time in the meter type's zone, with the UTC instant on hover. */
export function Time({ iso, zone }: { iso: string | null | undefined; zone?: string }) {
  if (!iso) return <span class="muted">—</span>;
  const utc = new Date(iso);
  const title = Number.isNaN(utc.getTime()) ? iso : `${utc.toISOString()} (UTC)`;
  return (
    <time dateTime={iso} title={title}>
      {formatInstant(iso, zone ?? 'Etc/UTC')}
    </time>
  );
}

/** A `<dl>` row. */
export function Detail({ term, children }: { term: string; children: ComponentChildren }) {
  return (
    <>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </>
  );
}
