/** Formatting of the bench's results: one markdown table with the machine it ran on. */
import { cpus, loadavg, platform, release, totalmem } from 'node:os';

/** One line of the results table. */
export interface Row {
  /** Section number (1–7) and what was measured. */
  section: string;
  measure: string;
  measured: string;
  /** The target, or the baseline it is compared with. */
  target: string;
  ratio: string;
  notes: string;
}

export function machineLine(date: Date, loadAtStart: string): string {
  const cpu = cpus();
  const model = (cpu[0]?.model ?? 'unknown CPU').replace(/\s+/g, ' ').trim();
  const memory = (totalmem() / 1024 ** 3).toFixed(1);
  return `Machine: ${model}, ${cpu.length} cores, ${memory} GiB RAM, ${platform()} ${release()}, Node ${process.version}. Run: ${date.toISOString().replace(/\.\d{3}Z$/, 'Z')}, 1-minute load average at start ${loadAtStart}, at end ${loadAverage()}.`;
}

/** The 1-minute load average (other work on the machine skews every figure). */
export function loadAverage(): string {
  return (loadavg()[0] ?? 0).toFixed(2);
}

/** 12,345 */
export function int(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A rate with sensible precision. */
export function rate(n: number): string {
  if (n >= 100) return int(n);
  if (n >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

export function fixed(n: number, digits = 2): string {
  return n.toFixed(digits);
}

export function times(n: number): string {
  return `${n >= 10 ? n.toFixed(1) : n.toFixed(2)}×`;
}

export function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** The markdown table. */
export function markdownTable(headers: readonly string[], rows: readonly (readonly string[])[]) {
  const lines = [
    `| ${headers.map(cell).join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ];
  return lines.join('\n');
}

export function resultsTable(rows: readonly Row[]): string {
  return markdownTable(
    ['#', 'what', 'measured', 'target / baseline', 'ratio', 'notes'],
    rows.map((r) => [r.section, r.measure, r.measured, r.target, r.ratio, r.notes]),
  );
}
