/** A bar chart of value per period, in inline SVG (no chart library). */
import type { MeteredRecord } from '../api/client.js';
import { formatInstant, showValue } from '../format.js';

const WIDTH = 640;
const HEIGHT = 180;
const PAD = 28;

export function ValueChart({ records }: { records: readonly MeteredRecord[] }) {
  // Final records only: one bar per closed period, oldest first.
  const finals = records
    .filter((record) => record.recordType === 'final')
    .sort((a, b) => a.periodEnd.localeCompare(b.periodEnd))
    .slice(-30);
  if (finals.length === 0) return <p>No closed period yet.</p>;
  // Plotting needs a number; labels still show the exact value as sent.
  const heights = finals.map((record) => Math.max(0, Number(record.value) || 0));
  const max = Math.max(...heights, 1);
  const slot = Math.min((WIDTH - PAD) / finals.length, 60);
  const label = `Value per period, last ${finals.length} periods, highest ${showValue(
    finals[heights.indexOf(Math.max(...heights))]?.value,
  )}`;
  return (
    <svg
      class="chart"
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      role="img"
      aria-label={label}
      width="100%"
    >
      <line x1={PAD} y1={HEIGHT - PAD} x2={WIDTH} y2={HEIGHT - PAD} class="axis" />
      {finals.map((record, index) => {
        const h = ((heights[index] ?? 0) / max) * (HEIGHT - 2 * PAD);
        const x = PAD + index * slot + slot * 0.15;
        return (
          <g key={record.recordId}>
            <title>
              {`${showValue(record.value)} ${record.unit}, period ending ${formatInstant(record.periodEnd, record.timezone)}`}
            </title>
            <rect x={x} y={HEIGHT - PAD - h} width={slot * 0.7} height={h} class="bar" />
            <text
              x={x + slot * 0.35}
              y={HEIGHT - PAD - h - 4}
              text-anchor="middle"
              class="bar-label"
            >
              {showValue(record.value)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
