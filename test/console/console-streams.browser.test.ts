/**
 * The console's stream page on the stored, versioned processors: an edited configuration saved
 * with If-Match, its versions listed.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleHarness, seriousViolations, startConsoleHarness } from '../support/browser.js';

describe('web console: stream updates and versions', () => {
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

  it('saves an edited stream configuration and lists its versions', async () => {
    await page.goto(harness.url('#/streams/usage-events'));
    const editor = page.getByLabel('Configuration of usage-events (JSON)');
    const configuration = JSON.parse(await editor.inputValue());
    configuration.description = 'edited in the console';
    await editor.fill(JSON.stringify(configuration, null, 2));
    await page.getByRole('button', { name: 'Save configuration' }).click();
    // The page reads the stream again after the save: a new version, listed with the old one.
    await page
      .getByText(`version ${configuration.version + 1}`, { exact: false })
      .first()
      .waitFor();
    await expect.poll(() => page.locator('#versions-h + ol li').count()).toBe(2);
    const saved = JSON.parse(await editor.inputValue());
    expect([saved.description, saved.version]).toEqual([
      'edited in the console',
      configuration.version + 1,
    ]);
    expect(await seriousViolations(page)).toEqual([]);
  });
});
