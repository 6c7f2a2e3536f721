/**
 * Console features that need routes issue 13 adds; NOT run until enabled. To enable after
 * merging issue 13 (PUT /streams/{name}, GET /streams/{name}/versions): run
 * `npm run console:types`, rename this file to `console-streams.browser.test.ts`, delete
 * console/src/api/pending-routes.ts (every path in it is then generated; import `paths` from
 * openapi-types.ts in client.ts instead), and run it. (The correction tests that were here run
 * in console-corrections.browser.test.ts.)
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
    await page.getByText('Saved.').waitFor();
    await page.getByRole('heading', { name: 'Versions' }).waitFor();
    expect(await page.locator('#versions-h + ol li').count()).toBeGreaterThanOrEqual(2);
    expect(await seriousViolations(page)).toEqual([]);
  });
});
