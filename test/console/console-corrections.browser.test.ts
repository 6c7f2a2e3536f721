/**
 * Console features on the routes issue 16 part B added: the correction counts on the overview,
 * the user/time filters of the correction list and the bulk re-send and delete.
 */
import { describe, expect, it } from 'vitest';
import {
  consoleHarnessForSuite,
  putUsage,
  screenshot,
  seriousViolations,
} from '../support/browser.js';

describe('web console: data corrections in bulk', () => {
  const suite = consoleHarnessForSuite();

  const put = async (records: object[]) => {
    await putUsage(suite.harness.stack, records);
    await suite.harness.stack.idle();
  };

  it('counts open corrections by reason on the overview (the counts route, not a sample)', async () => {
    const { harness, page } = suite;
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
    const { harness, page } = suite;
    await page.goto(harness.url('#/corrections'));
    await page.getByLabel('User').fill('erin');
    await page.getByRole('button', { name: 'Apply filter' }).click();
    // The unfiltered list is on the page until the filtered one replaces it.
    await expect.poll(() => page.locator('li.correction').count()).toBe(2);
    expect(await page.locator('li.correction', { hasText: 'frank' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Reprocess all that match' }).click();
    await page.getByText(/^Reprocessed 2\./).waitFor();
    await page.getByLabel('User').fill('frank');
    await page.getByRole('button', { name: 'Apply filter' }).click();
    await page.getByRole('button', { name: 'Delete all that match' }).click();
    await page.getByText(/^Deleted 1\./).waitFor();
    await screenshot(page, 'corrections-bulk');
  });
});
