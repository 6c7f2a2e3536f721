/**
 * Console features that need routes other branches add; NOT run until enabled. To enable after
 * merging issue 16 part B (GET /corrections/counts, POST /corrections/reprocess and
 * /corrections/delete, the user/time filters of GET /corrections) and issue 13 (PUT
 * /streams/{name}, GET /streams/{name}/versions): run `npm run console:types`, rename this
 * file to `console-merged-api.browser.test.ts`, delete console/src/api/pending-routes.ts's
 * entries that are now generated, and run it.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ConsoleHarness,
  putUsage,
  screenshot,
  seriousViolations,
  startConsoleHarness,
} from '../support/browser.js';

describe('web console on the merged API', () => {
  let harness: ConsoleHarness;
  let page: Page;
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
    await harness.stack.idle();
  };

  it('counts open corrections by reason on the overview (the counts route, not a sample)', async () => {
    await put([
      { userId: 'erin', value: 1 },
      { userId: 'erin', value: 2 },
      { userId: 'frank', value: 3 },
    ]);
    await page.goto(harness.url('#/'));
    const card = page.locator('a', { hasText: 'NO_METER' });
    await card.waitFor();
    expect(await card.textContent()).toContain('3');
    expect(await page.getByText(/Counted in the latest/).count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('filters corrections by user and reprocesses all that match, then deletes the rest', async () => {
    await page.goto(harness.url('#/corrections'));
    await page.getByLabel('User').fill('erin');
    await page.getByRole('button', { name: 'Apply filter' }).click();
    await page.locator('li.correction').first().waitFor();
    expect(await page.locator('li.correction').count()).toBe(2);
    await page.getByRole('button', { name: 'Reprocess all that match' }).click();
    await page.getByText(/^Reprocessed 2, 0 remaining/).waitFor();
    await page.getByLabel('User').fill('frank');
    await page.getByRole('button', { name: 'Apply filter' }).click();
    await page.getByRole('button', { name: 'Delete all that match' }).click();
    await page.getByText(/^Deleted 1, 0 remaining/).waitFor();
    await screenshot(page, 'corrections-bulk');
  });

  it('saves an edited stream configuration and lists its versions', async () => {
    await page.goto(harness.url('#/streams/usage-events'));
    const editor = page.getByLabel('Configuration of usage-events (JSON)');
    const configuration = JSON.parse(await editor.inputValue());
    configuration.description = 'edited in the console';
    await editor.fill(JSON.stringify(configuration, null, 2));
    await page.getByRole('button', { name: 'Save configuration' }).click();
    await page.getByText('Saved.').waitFor();
    await page.getByRole('heading', { name: 'Versions' }).waitFor();
    expect(await page.locator('#versions-h + ol li').count()).toBeGreaterThanOrEqual(2);
    expect(await seriousViolations(page)).toEqual([]);
  });
});
