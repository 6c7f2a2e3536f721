/**
 * The console's build rules: its API types are generated from the committed OpenAPI document
 * (never stale, never hand-written), the schedule module it shares with the service bundles for
 * the browser with luxon alone, and the built bundle stays within its size budget.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { buildConsole, consoleSize } from '../../console/tools/build-console.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** Bundles `entry` (or `contents`) for the browser; what it pulls in and the errors. */
async function browserBundle(entry: { path: string } | { contents: string }) {
  const result = await build({
    ...('path' in entry
      ? { entryPoints: [entry.path] }
      : { stdin: { contents: entry.contents, resolveDir: ROOT, loader: 'ts' as const } }),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
  }).catch((error: { errors: { text: string }[] }) => ({
    errors: error.errors,
    metafile: undefined,
  }));
  const inputs = Object.keys(result.metafile?.inputs ?? {});
  return { errors: result.errors.map((e) => e.text), inputs };
}

describe('console build', () => {
  it('has API types generated from the committed openapi.json (run `npm run console:types`)', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'console-types-')), 'openapi-types.ts');
    execFileSync(
      process.execPath,
      [
        resolve(ROOT, 'node_modules/openapi-typescript/bin/cli.js'),
        'shared/http/openapi.json',
        '-o',
        out,
      ],
      { cwd: ROOT, stdio: 'pipe' },
    );
    const committed = readFileSync(resolve(ROOT, 'console/src/api/openapi-types.ts'), 'utf8');
    expect(
      committed === readFileSync(out, 'utf8'),
      'console/src/api/openapi-types.ts is stale: run `npm run console:types`',
    ).toBe(true);
  });

  it('bundles the schedule module for the browser with luxon and nothing from Node', async () => {
    const { errors, inputs } = await browserBundle({
      path: resolve(ROOT, 'shared/domain/schedule.ts'),
    });
    expect(errors).toEqual([]);
    const outside = inputs.filter(
      (input) => !input.startsWith('shared/domain/') && !input.startsWith('node_modules/luxon/'),
    );
    expect(outside).toEqual([]);
    expect(inputs.some((input) => input.startsWith('node_modules/luxon/'))).toBe(true);
  });

  it('fails that check for a module that imports a Node built-in (the check can fail)', async () => {
    const { errors } = await browserBundle({
      contents: "import { readFileSync } from 'node:fs'; export const read = readFileSync;",
    });
    expect(errors.join('\n')).toContain('node:fs');
  });

  it('builds the console within 250 KB gzip, every asset bundled (no outside URLs)', async () => {
    const dir = await buildConsole(mkdtempSync(join(tmpdir(), 'console-build-')));
    const { gzip } = consoleSize(dir);
    expect(gzip).toBeLessThanOrEqual(250 * 1024);
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    const css = readFileSync(join(dir, 'app.css'), 'utf8');
    expect(`${html}\n${css}`).not.toMatch(/(?:src|href)=["']?(?:https?:)?\/\//);
    expect(css).not.toMatch(/url\(\s*["']?(?:https?:)?\/\//);
  });
});
