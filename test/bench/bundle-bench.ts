/**
 * Section 5 of the bench: the Lambda bundles as the CDK's NodejsFunction would build them
 * (esbuild: bundle, platform node, target node22, minify, CommonJS — NodejsFunction's default
 * format), once with everything bundled and once with `@aws-sdk/*` left to the Lambda runtime
 * (NodejsFunction's default for Node 18+ runtimes).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { buildConsole, consoleSize } from '../../console/tools/build-console.js';
import { kib, type Row } from './report.js';

export const LAMBDAS = ['api', 'ingest', 'reset', 'sweeper'] as const;

export interface BundleResult {
  name: string;
  all: { bytes: number; gzip: number; warnings: number };
  sdkExternal: { bytes: number; gzip: number };
  /** The largest packages of the bundle with the SDK external, bytes in the output. */
  top: { name: string; bytes: number }[];
}

async function bundle(root: string, name: string, external: string[]) {
  const result = await build({
    entryPoints: [resolve(root, 'lambdas', `${name}.ts`)],
    bundle: true,
    platform: 'node',
    target: 'node22',
    minify: true,
    format: 'cjs',
    write: false,
    metafile: true,
    external,
    logLevel: 'silent',
  });
  const output = result.outputFiles[0]?.contents ?? new Uint8Array();
  const packages = new Map<string, number>();
  for (const meta of Object.values(result.metafile.outputs)) {
    for (const [file, input] of Object.entries(meta.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
      const key = match?.[1] ?? 'this project';
      packages.set(key, (packages.get(key) ?? 0) + input.bytesInOutput);
    }
  }
  return {
    bytes: output.length,
    gzip: gzipSync(output).length,
    warnings: result.warnings.length,
    packages,
  };
}

export async function measureBundles(root: string): Promise<BundleResult[]> {
  const results: BundleResult[] = [];
  for (const name of LAMBDAS) {
    const all = await bundle(root, name, []);
    const external = await bundle(root, name, ['@aws-sdk/*']);
    const top = [...external.packages.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([pkg, bytes]) => ({ name: pkg, bytes }));
    results.push({
      name,
      all: { bytes: all.bytes, gzip: all.gzip, warnings: all.warnings },
      sdkExternal: { bytes: external.bytes, gzip: external.gzip },
      top,
    });
  }
  return results;
}

export function bundleRows(results: readonly BundleResult[]): Row[] {
  return results.map((b) => ({
    section: '5',
    measure: `bundle lambdas/${b.name}.ts`,
    measured: `${kib(b.all.bytes)} (gzip ${kib(b.all.gzip)})`,
    target: `@aws-sdk/* external: ${kib(b.sdkExternal.bytes)} (gzip ${kib(b.sdkExternal.gzip)})`,
    ratio: '—',
    notes: `esbuild cjs, node22, minified, everything bundled; ${b.all.warnings} warnings; largest with SDK external: ${b.top.map((t) => `${t.name} ${kib(t.bytes)}`).join(', ')}`,
  }));
}

/** The web console as `npm start` serves it: index.html, app.js and app.css, minified. */
export async function measureConsoleBundle(): Promise<{ bytes: number; gzip: number }> {
  const dir = await buildConsole(mkdtempSync(join(tmpdir(), 'bench-console-')));
  return consoleSize(dir);
}

/** Budget: 250 KB gzip for everything the browser downloads (no CDN, all bundled). */
export function consoleBundleRow(size: { bytes: number; gzip: number }): Row {
  return {
    section: '5',
    measure: 'bundle console (web console)',
    measured: `${kib(size.bytes)} (gzip ${kib(size.gzip)})`,
    target: `≤ ${kib(250 * 1024)} gzip`,
    ratio: `${((250 * 1024) / size.gzip).toFixed(1)}x headroom`,
    notes:
      'esbuild esm, browser, es2022, minified: Preact, openapi-fetch, cronstrue, luxon (the schedule module) and the CSS; gzip level 9',
  };
}
