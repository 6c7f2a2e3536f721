/**
 * A unique count through the console: the meter-type form with its field errors beside the
 * unique count's own inputs, a meter of it, records with repeated device ids on the local
 * Kinesis and the meter's page showing the distinct count, and the record past maxDistinct in
 * data correction under UNIQUE_LIMIT_EXCEEDED. axe-core finds no serious or critical
 * violation; a CSP violation is a page error.
 */
import { describe, expect, it } from 'vitest';
import {
  consoleHarnessForSuite,
  putUsage,
  screenshot,
  seriousViolations,
} from '../support/browser.js';

describe('web console: a unique count', () => {
  const suite = consoleHarnessForSuite();
  const fieldError = (field: string) => suite.page.locator(`[data-field="${field}"] .field-error`);

  it('creates a unique meter type through the form, its field errors beside their inputs first', async () => {
    const { harness, page } = suite;
    await page.goto(harness.url('#/meter-types/new'));
    await page.getByRole('heading', { level: 1, name: 'New meter type' }).waitFor();
    // Only unique has a field to count and a limit; reject is offered until unique is chosen.
    expect(await page.getByLabel('Field', { exact: true }).count()).toBe(0);
    const policy = page.getByLabel('Capacity policy');
    expect(await policy.locator('option').allTextContents()).toHaveLength(2);
    await policy.selectOption('reject');
    await page.getByLabel('Aggregation').selectOption('unique');
    expect(await policy.locator('option').evaluateAll((os) => os.map((o) => o.value))).toEqual([
      'notify',
    ]);
    expect(await policy.inputValue()).toBe('notify');
    await page.getByText(/reject is not allowed for unique/).waitFor();

    await page.getByLabel('Name').fill('devices');
    await page.getByLabel('Unit').fill('devices');
    await page.getByLabel('External reference').fill('sku-devices');
    await page.getByLabel('Max distinct values per period').fill('0');
    await page.getByRole('button', { name: 'Create meter type' }).click();
    // The API's 400 names aggregation.field and aggregation.maxDistinct: each beside its input.
    await fieldError('aggregation.field').waitFor();
    expect(await fieldError('aggregation.field').textContent()).toContain('required for unique');
    expect(await fieldError('aggregation.maxDistinct').textContent()).toContain('at least 1');
    expect(await fieldError('aggregation').count()).toBe(0);
    expect(await page.getByLabel('Field', { exact: true }).getAttribute('aria-invalid')).toBe(
      'true',
    );
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'meter-type-unique-field-errors');

    await page.getByLabel('Field', { exact: true }).fill('deviceId');
    await page.getByLabel('Max distinct values per period').fill('3');
    await page.getByRole('button', { name: 'Create meter type' }).click();
    await page.getByText('Created meter type devices.').waitFor();
    expect(await page.locator('.field-error').count()).toBe(0);
    // Now the type's page: the counted field and its limit, which cannot change.
    const field = page.getByLabel('Field', { exact: true });
    expect([await field.inputValue(), await field.getAttribute('readonly')]).toEqual([
      'deviceId',
      '',
    ]);
    expect(await page.getByLabel('Max distinct values per period').inputValue()).toBe('3');
  });

  it('lists the unique type with the field it counts and its limit', async () => {
    const { harness, page } = suite;
    await page.goto(harness.url('#/meter-types'));
    const row = page.locator('tr', { hasText: 'devices' });
    await row.getByText('unique values of deviceId (at most 3 per period)').waitFor();
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('shows the distinct count on the meter page as records with repeated devices arrive', async () => {
    const { harness, page } = suite;
    await page.goto(harness.url('#/meters'));
    await page.getByText('New meter').click();
    const form = page.getByRole('form', { name: 'New meter' });
    await form.getByLabel('Meter key').fill('usage-events');
    await form.getByLabel('Meter type (id or external reference)').fill('sku-devices');
    await form.getByLabel('User').fill('uma');
    await form.getByRole('button', { name: 'Create meter' }).click();
    await page.getByRole('heading', { name: /Meter of uma/ }).waitFor();
    await page.locator('.meter-value').waitFor();

    const devices = ['d1', 'd2', 'd1', 'd3', 'd2', 'd4'];
    await putUsage(
      harness.stack,
      devices.map((deviceId, n) => ({ userId: 'uma', deviceId, eventId: `seen-${n}` })),
    );
    // Three distinct devices; d4 is one past maxDistinct 3. The page polls: no reload.
    await expect
      .poll(() => page.locator('dt:has-text("Record count") + dd').textContent(), {
        timeout: 20_000,
      })
      .toBe('5');
    expect(await page.locator('.meter-value').textContent()).toBe('3');
    await page.getByText('(distinct values of deviceId)').waitFor();
    const aggregation = page.locator('dt:has-text("Aggregation") + dd');
    expect(await aggregation.textContent()).toBe(
      'unique values of deviceId (at most 3 per period)',
    );
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'meter-unique');
  }, 60_000);

  it('lists the record past maxDistinct under UNIQUE_LIMIT_EXCEEDED', async () => {
    const { harness, page } = suite;
    await harness.stack.idle();
    await page.goto(harness.url('#/corrections'));
    await page.getByLabel('Reason').selectOption('UNIQUE_LIMIT_EXCEEDED');
    await page.getByRole('button', { name: 'Apply filter' }).click();
    const row = page.locator('li.correction', { hasText: 'UNIQUE_LIMIT_EXCEEDED' });
    await expect.poll(() => page.locator('li.correction').count()).toBe(1);
    await row.getByText(/Record \(json\)/).click();
    expect(await row.locator('pre').textContent()).toContain('"deviceId": "d4"');
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, 'corrections-unique');
  });
});
