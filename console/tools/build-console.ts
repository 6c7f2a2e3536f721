/**
 * Builds the console with esbuild: one JS and one CSS file plus index.html in `outDir`.
 * Everything is bundled (no CDN). `npm start` builds it at every start (it takes well under
 * a second), so a fresh clone never serves a missing or stale console; dev mode rebuilds on
 * every change and tells the open page to reload.
 */
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { type BuildOptions, build, context } from 'esbuild';

const CONSOLE_ROOT = resolve(import.meta.dirname, '..');
/** Where `npm start` builds the console to (git-ignored). */
export const DEFAULT_CONSOLE_DIR = resolve(CONSOLE_ROOT, 'dist');

function options(outDir: string, liveReloadUrl: string, minify: boolean): BuildOptions {
  return {
    entryPoints: { app: resolve(CONSOLE_ROOT, 'src/main.tsx') },
    outdir: outDir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify,
    sourcemap: minify ? false : 'inline',
    metafile: true,
    logLevel: 'silent',
    define: { LIVE_RELOAD_URL: JSON.stringify(liveReloadUrl) },
  };
}

function copyHtml(outDir: string): void {
  mkdirSync(outDir, { recursive: true });
  copyFileSync(resolve(CONSOLE_ROOT, 'index.html'), resolve(outDir, 'index.html'));
}

/** Sizes of a built console: every file, raw and gzip, in bytes. */
export function consoleSize(outDir: string): { bytes: number; gzip: number } {
  let bytes = 0;
  let gzip = 0;
  for (const name of ['index.html', 'app.js', 'app.css']) {
    const content = readFileSync(resolve(outDir, name));
    bytes += content.length;
    gzip += gzipSync(content, { level: 9 }).length;
  }
  return { bytes, gzip };
}

/** Builds the console once, minified, into `outDir`. */
export async function buildConsole(outDir = DEFAULT_CONSOLE_DIR): Promise<string> {
  copyHtml(outDir);
  const result = await build(options(outDir, '', true));
  if (result.errors.length) throw new Error(`console build failed: ${result.errors[0]?.text}`);
  return outDir;
}

/**
 * Dev mode: rebuilds `outDir` on every change and serves esbuild's change events on
 * `livePort`; the page listens to them and reloads.
 */
export async function watchConsole(
  outDir: string,
  livePort: number,
  pageOrigin: string,
): Promise<{ stop(): Promise<void> }> {
  copyHtml(outDir);
  const url = `http://127.0.0.1:${livePort}/esbuild`;
  const ctx = await context({ ...options(outDir, url, false), logLevel: 'info' });
  await ctx.watch();
  await ctx.serve({
    host: '127.0.0.1',
    port: livePort,
    servedir: outDir,
    cors: { origin: pageOrigin },
  });
  return { stop: () => ctx.dispose() };
}
