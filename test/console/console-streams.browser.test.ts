/**
 * The console's stream page on the stored, versioned processors: an edited configuration saved
 * with If-Match, its versions listed.
 */
import { describe, expect, it } from 'vitest';
import { consoleHarnessForSuite, seriousViolations } from '../support/browser.js';

describe('web console: stream updates and versions', () => {
  const suite = consoleHarnessForSuite();

  it('saves an edited stream configuration and lists its versions', async () => {
    const { harness, page } = suite;
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
