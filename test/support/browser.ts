/**
 * A real browser for the console's tests: Debian's Chromium driven by playwright-core, the
 * console built into a temporary folder, and the local stack serving it beside the API.
 */
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { type Browser, chromium, type Page } from 'playwright-core';
import { buildConsole } from '../../console/tools/build-console.js';
import { createLocalKinesisClient } from '../../shared/local/kinesis-local.js';
import { type LocalStack, startLocalStack } from '../../shared/local/local-stack.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Screenshots of every page, for a person to look at (git-ignored). */
export const SCREENSHOT_DIR = resolve(import.meta.dirname, '../../test-output/console');

export interface ConsoleHarness {
  stack: LocalStack;
  browser: Browser;
  page: Page;
  /** Uncaught errors of the page so far (a test expects none). */
  pageErrors: string[];
  /** The console's URL for a hash route, e.g. `#/meters`. */
  url(hash?: string): string;
  stop(): Promise<void>;
}

/** Builds the console, starts the local stack with it and opens a page in Chromium. */
export async function startConsoleHarness(): Promise<ConsoleHarness> {
  const consoleDir = await buildConsole(mkdtempSync(join(tmpdir(), 'console-')));
  const stack = await startLocalStack({
    port: 0,
    kinesisPort: 0,
    consoleDir,
    recordsFile: join(consoleDir, 'records.jsonl'),
    log: () => undefined,
  });
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('dialog', (dialog) => void dialog.accept());
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const base = stack.consoleUrl ?? '';
    const opened = browser;
    return {
      stack,
      browser: opened,
      page,
      pageErrors,
      url: (hash = '#/') => `${base}${hash}`,
      stop: async () => {
        await opened.close();
        await stack.stop();
      },
    };
  } catch (error) {
    await browser?.close();
    await stack.stop();
    throw error;
  }
}

const axeSource = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

/** axe-core's serious and critical violations on the page as it is now. */
export async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as { axe: { run(): Promise<{ violations: AxeViolation[] }> } }
    ).axe;
    const result = await axe.run();
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 3),
    }));
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.join(', ')}`);
}

interface AxeViolation {
  id: string;
  impact: string | null;
  nodes: { target: string[] }[];
}

/** Saves a full-page screenshot under SCREENSHOT_DIR. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** Puts usage records (JSON) on the local stack's `usage-events` stream. */
export async function putUsage(stack: LocalStack, records: object[]): Promise<void> {
  const kinesis = createLocalKinesisClient(stack.kinesisEndpoint);
  try {
    await kinesis.send(
      new PutRecordsCommand({
        StreamName: 'usage-events',
        Records: records.map((record) => ({
          PartitionKey: 'p',
          Data: Buffer.from(JSON.stringify(record)),
        })),
      }),
    );
  } finally {
    kinesis.destroy();
  }
}
