/**
 * A real browser for the console's tests: Debian's Chromium driven by playwright-core, the
 * console built into a temporary folder, and the local stack serving it beside the API.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
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
  /** Uncaught errors and Content-Security-Policy violations of the page so far (a test expects none). */
  pageErrors: string[];
  /** The folder the console is served from (its config.json included, when given). */
  consoleDir: string;
  /** The console's URL for a hash route, e.g. `#/meters`. */
  url(hash?: string): string;
  stop(): Promise<void>;
}

export interface ConsoleHarnessOptions {
  /** The config.json to serve beside the console, given the console's URL (none: no sign-in). */
  config?: (consoleUrl: string) => object;
}

/** Builds the console, starts the local stack with it and opens a page in Chromium. */
export async function startConsoleHarness(
  options: ConsoleHarnessOptions = {},
): Promise<ConsoleHarness> {
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
    const base = stack.consoleUrl ?? '';
    if (options.config)
      writeFileSync(join(consoleDir, 'config.json'), JSON.stringify(options.config(base)));
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
    await reportPolicyViolations(page, pageErrors);
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    const opened = browser;
    return {
      stack,
      browser: opened,
      page,
      pageErrors,
      consoleDir,
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

/**
 * The console harness of a `describe` block: started before its first test, stopped after its
 * last, and the block fails when the page had an uncaught error or a CSP violation.
 */
export function consoleHarnessForSuite(options: ConsoleHarnessOptions = {}): {
  readonly harness: ConsoleHarness;
  readonly page: Page;
} {
  let started: ConsoleHarness | undefined;
  beforeAll(async () => {
    started = await startConsoleHarness(options);
  }, 90_000);
  afterAll(async () => {
    expect(started?.pageErrors ?? []).toEqual([]);
    await started?.stop();
  });
  const harness = () => {
    if (!started) throw new Error('the console harness has not started');
    return started;
  };
  return {
    get harness() {
      return harness();
    },
    get page() {
      return harness().page;
    },
  };
}

/** Every Content-Security-Policy violation on any document of the page, as a page error. */
async function reportPolicyViolations(page: Page, errors: string[]): Promise<void> {
  await page.exposeFunction('reportPolicyViolation', (text: string) => errors.push(text));
  await page.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (event) =>
      reportPolicyViolation('CSP ' + event.effectiveDirective + ' blocked ' + (event.blockedURI || 'inline')));`,
  });
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) errors.push(message.text());
  });
}

const axeSource = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

/** axe-core's serious and critical violations on the page as it is now. */
export async function seriousViolations(page: Page): Promise<string[]> {
  // Evaluated over the DevTools protocol, not as an inline <script> the page's CSP refuses.
  await page.evaluate(axeSource);
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
