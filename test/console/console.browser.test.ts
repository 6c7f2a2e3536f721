/**
 * The web console in a real browser (Chromium) against the local stack: what a user does on
 * each page, the API's answers shown where they belong, and axe-core finding no serious or
 * critical accessibility violation on any page, under CloudFront's Content-Security-Policy (a
 * violation is a page error). Screenshots go to test-output/console/.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentSecurityPolicy } from '../../shared/http/content-security-policy.js';
import {
  type ConsoleHarness,
  putUsage,
  screenshot,
  seriousViolations,
  startConsoleHarness,
} from '../support/browser.js';

describe('web console', () => {
  let harness: ConsoleHarness;
  let page: Page;
  let meterId = '';
  beforeAll(async () => {
    harness = await startConsoleHarness();
    page = harness.page;
  }, 90_000);
  afterAll(async () => {
    expect(harness?.pageErrors ?? []).toEqual([]);
    await harness?.stop();
  });

  const put = async (records: object[]) => {
    await putUsage(harness.stack, records);
  };

  /** Opens a page, checks it with axe and saves its screenshot. */
  const visit = async (hash: string, name: string, ready: string) => {
    await page.goto(harness.url(hash));
    expect(harness.pageErrors).toEqual([]);
    await page.getByRole('heading', { level: 1, name: ready }).waitFor();
    await page.waitForLoadState('networkidle');
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, name);
  };

  it('serves the console at / and its assets, never shadowing the API', async () => {
    const root = await fetch(harness.url(''));
    expect(root.headers.get('content-type')).toContain('text/html');
    // CloudFront's policy, with no sign-in origin: the console has no config.json here.
    expect(root.headers.get('content-security-policy')).toBe(contentSecurityPolicy([]));
    expect((await fetch(harness.url('config.json'))).status).toBe(404);
    expect(await root.text()).toContain('/console/app.js');
    expect((await fetch(harness.url('console/app.js'))).status).toBe(200);
    expect((await fetch(harness.url('console/missing.js'))).status).toBe(404);
    const api = await fetch(`${harness.stack.apiUrl}/summary`);
    expect(api.headers.get('content-type')).toContain('application/json');
  });

  it('creates a meter type through the form, showing the field errors first', async () => {
    await visit('#/meter-types/new', 'meter-type-new', 'New meter type');
    await page.getByRole('button', { name: 'Create meter type' }).click();
    // The API's 400 names `name` and `unit`; the form shows each beside its field.
    const nameError = page.locator('[data-field="name"] .field-error');
    await nameError.waitFor();
    expect(await nameError.textContent()).not.toBe('');
    expect(await page.locator('[data-field="unit"] .field-error').count()).toBe(1);
    expect(await page.getByLabel('Name').getAttribute('aria-invalid')).toBe('true');
    await screenshot(page, 'meter-type-field-errors');

    await page.getByLabel('Name').fill('api-calls');
    await page.getByLabel('Unit').fill('calls');
    await page.getByLabel('External reference').fill('sku-api-calls');
    for (const part of ['minute', 'hour', 'day', 'month', 'weekday'])
      await page.getByLabel(part, { exact: true }).fill('*');
    await page.getByLabel('Time zone').fill('Europe/Stockholm');
    // The schedule in words and five period ends, from the service's own schedule module.
    await page.getByText('Every minute').first().waitFor();
    expect(await page.locator('.period-ends li').count()).toBe(5);
    await page.getByRole('button', { name: 'Create meter type' }).click();
    await page.getByText('Created meter type api-calls.').waitFor();
    expect(await page.locator('.field-error').count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'meter-type-created');
  });

  it('lists meter types and refuses to delete one with meters, explaining why', async () => {
    await visit('#/meter-types', 'meter-types', 'Meter types');
    await page.getByRole('link', { name: 'api-calls' }).click();
    await page.getByRole('heading', { name: 'Meter type api-calls' }).waitFor();
    const meter = await fetch(`${harness.stack.apiUrl}/meters`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        meterKey: 'usage-events',
        meterTypeExternalRef: 'sku-api-calls',
        userId: 'carol',
      }),
    });
    expect(meter.status).toBe(201);
    await page.getByRole('button', { name: 'Delete meter type' }).click();
    await page.getByText(/still has .*meter/).waitFor();
  });

  it('creates a meter and shows its value change as records arrive on Kinesis', async () => {
    // Leave room in the minute, so the records land in the period the meter opens with.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 40_000) await new Promise((r) => setTimeout(r, 60_500 - intoMinute));
    await visit('#/meters', 'meters', 'Meters');
    await page.getByText('New meter').click();
    const form = page.getByRole('form', { name: 'New meter' });
    await form.getByLabel('Meter key').fill('usage-events');
    await form.getByLabel('Meter type (id or external reference)').fill('sku-api-calls');
    await form.getByLabel('User').fill('alice');
    await form.getByRole('button', { name: 'Create meter' }).click();
    await page.getByRole('heading', { name: /Meter of alice/ }).waitFor();
    meterId = decodeURIComponent(page.url().split('#/meters/')[1] ?? '');
    expect(meterId).toMatch(/^[0-9a-f-]{36}$/);
    await page.locator('.meter-value').waitFor();

    await put([
      { userId: 'alice', value: 3, eventId: 'call-1' },
      { userId: 'alice', value: 3, eventId: 'call-1' },
      { userId: 'alice', value: 4.5, eventId: 'call-2' },
    ]);
    // The page polls: the new value appears without a reload.
    await page.locator('.meter-value', { hasText: '7.5' }).waitFor({ timeout: 20_000 });
    const period = page.locator('dt:has-text("Period end") + dd time');
    expect(await period.getAttribute('title')).toMatch(/Z \(UTC\)$/);
    expect(await period.textContent()).toContain('(Europe/Stockholm)');
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'meter');
  }, 90_000);

  it("shows the period's final record after the every-minute reset", async () => {
    // The local stack's scheduler closes the period at the end of the minute.
    const finalRow = page.locator('tr', { hasText: 'final' }).filter({ hasText: '7.5' });
    await finalRow.first().waitFor({ timeout: 85_000 });
    await page.locator('svg.chart rect.bar').first().waitFor();
    // docs/console.png, the README's picture, is a copy of this one.
    await screenshot(page, 'meter-after-reset');
  }, 90_000);

  it('shows the latest records and the summary on the overview', async () => {
    await visit('#/', 'overview', 'Overview');
    await page.getByRole('link', { name: /meter types/ }).waitFor();
    await page.locator('table tr', { hasText: 'final' }).first().waitFor();
  });

  it('filters the records and offers the CSV', async () => {
    await visit('#/records', 'records', 'Records');
    await page.getByLabel('User').fill('alice');
    await page.getByRole('button', { name: 'Apply filter' }).click();
    await page.locator('tr', { hasText: '7.5' }).first().waitFor();
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download as CSV' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe('metered-records.csv');
  });

  it('reprocesses a data correction, showing its decoded record', async () => {
    await put([{ userId: 'dave', value: 2, note: 'no meter yet' }]);
    await harness.stack.idle();
    await visit('#/corrections', 'corrections', 'Data corrections');
    const row = page.locator('li.correction', { hasText: 'NO_METER' }).first();
    await row.waitFor();
    await row.getByText(/Record \(json\)/).click();
    expect(await row.locator('pre').textContent()).toContain('"note": "no meter yet"');
    await screenshot(page, 'corrections');
    await row.getByRole('button', { name: /^Reprocess correction/ }).click();
    await page.getByText(/^Reprocessed /).waitFor();
  });

  it('shows a stream, its rules and a dry run that reaches the meter', async () => {
    await visit('#/streams', 'streams', 'Streams');
    await visit('#/streams/usage-events', 'stream', 'Stream usage-events');
    await page.getByLabel(/^Record \(JSON/).fill('{"userId": "alice", "value": 2}');
    await page.getByRole('button', { name: 'Run dry run' }).click();
    const result = page.locator('.dry-run-results [data-outcome="metered"]');
    await result.waitFor();
    expect(await result.textContent()).toContain('api-calls');
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'stream-dry-run');
  });
});
