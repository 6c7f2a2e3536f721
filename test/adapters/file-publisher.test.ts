import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JsonLinesFilePublisher } from '../../shared/adapters/file-publisher.js';
import type { PublishableRecord } from '../../shared/ports/record-publisher.js';

let dir: string;

function record(n: number): PublishableRecord & Record<string, unknown> {
  return {
    recordId: `rec-${n}`,
    recordType: 'final',
    id: 'meter-1',
    meterTypeId: 'api-calls',
    userId: 'user-1',
    note: 'line\nbreak "quoted"',
  };
}

async function lines(path: string): Promise<unknown[]> {
  const text = await readFile(path, 'utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line));
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'file-publisher-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('JsonLinesFilePublisher', () => {
  it('creates the directory and writes one parseable JSON line per record', async () => {
    const path = join(dir, 'nested', 'deeper', 'records.jsonl');
    const publisher = new JsonLinesFilePublisher({ path });

    const result = await publisher.publish([record(1), record(2)]);

    expect(result).toEqual({ sent: ['rec-1', 'rec-2'], failed: [] });
    expect(await lines(path)).toEqual([record(1), record(2)]);
  });

  it('appends to what is already there', async () => {
    const path = join(dir, 'records.jsonl');
    await writeFile(path, `${JSON.stringify({ earlier: true })}\n`);
    const publisher = new JsonLinesFilePublisher({ path });

    await publisher.publish([record(1)]);
    await new JsonLinesFilePublisher({ path }).publish([record(2), record(3)]);

    expect(await lines(path)).toEqual([{ earlier: true }, record(1), record(2), record(3)]);
  });

  it('keeps the lines of concurrent publishes whole and each call contiguous', async () => {
    const path = join(dir, 'records.jsonl');
    const publisher = new JsonLinesFilePublisher({ path });
    const big = 'y'.repeat(200_000);
    const calls = Array.from({ length: 8 }, (_, c) =>
      Array.from({ length: 5 }, (_, n) => ({ ...record(c * 10 + n), big })),
    );

    await Promise.all(calls.map((records) => publisher.publish(records)));

    const written = (await lines(path)) as PublishableRecord[];
    expect(written).toHaveLength(40);
    for (let i = 0; i < written.length; i += 5) {
      const call = Math.floor(Number((written[i]?.recordId ?? '').slice(4)) / 10);
      expect(written.slice(i, i + 5).map((r) => r.recordId)).toEqual(
        calls[call]?.map((r) => r.recordId),
      );
    }
  });

  it('reports every record failed when the file cannot be written', async () => {
    const blocker = join(dir, 'not-a-directory');
    await writeFile(blocker, '');
    const publisher = new JsonLinesFilePublisher({ path: join(blocker, 'records.jsonl') });

    const result = await publisher.publish([record(1), record(2)]);

    expect(result.sent).toEqual([]);
    expect(result.failed.map((f) => f.recordId)).toEqual(['rec-1', 'rec-2']);
  });

  it('reports a record that cannot be serialised and writes the others', async () => {
    const path = join(dir, 'records.jsonl');
    const bad = { ...record(1), amount: 10n };

    const result = await new JsonLinesFilePublisher({ path }).publish([bad, record(2)]);

    expect(result.sent).toEqual(['rec-2']);
    expect(result.failed.map((f) => f.recordId)).toEqual(['rec-1']);
    expect(await lines(path)).toEqual([record(2)]);
  });
});
