// The Tickets page: sign-in, filters in the URL, paging, re-sync of a row and of all.

import assert from 'node:assert/strict';
import { rowIds, screenshot, signIn, textMatches } from './browser.mjs';

export async function signInAndFilter(ctx) {
  const page = await signIn(ctx.browser, ctx.stack.base, ctx.stack.a.admin, { shot: 'sign-in' });
  ctx.admin = page;
  await rowIds(page, 200);
  await screenshot(page, 'tickets');

  await page.getByRole('checkbox', { name: 'critical' }).check();
  await page.getByLabel('SLA').selectOption('true');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.waitForURL((u) => u.searchParams.get('sla_breached') === 'true' && u.searchParams.getAll('severity').join() === 'critical');
  const rows = await rowIds(page, 6);
  for (const text of await page.locator('table[data-testid="tickets"] tbody tr').allTextContents()) {
    assert.match(text, /critical/i);
    assert.match(text, /overdue 5 h/);
  }
  await screenshot(page, 'tickets-filtered');

  // The copied URL, opened in a new page, shows the same rows.
  const copy = await page.context().newPage();
  await copy.goto(page.url());
  assert.deepEqual(await rowIds(copy, 6), rows);
  assert.equal(await copy.getByLabel('SLA').inputValue(), 'true', 'the form shows the filters of the URL');
  await copy.close();

  // Back to the unfiltered list with the back button.
  await page.goBack();
  await page.waitForURL((u) => !u.search);
  await rowIds(page, 200);

  // The vendor and sync-error filters speak the server's vocabulary.
  await page.getByLabel('Vendor', { exact: true }).selectOption('servicenow');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.waitForURL((u) => u.searchParams.get('vendor') === 'servicenow');
  await rowIds(page, 200);
  for (const [label, value] of [['Vendor', 'jira'], ['Vendor', 'manageengine']]) {
    await page.getByLabel(label, { exact: true }).selectOption(value);
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL((u) => u.searchParams.get('vendor') === value);
    await page.getByText('No linked tickets match these filters.').waitFor();
  }
  await page.goto('/tickets?sync_error=true');
  await page.getByText('No linked tickets match these filters.').waitFor();
  assert.ok(await page.getByLabel('Sync error').isChecked());
}

export async function pageForwardAndBack(ctx) {
  const page = ctx.admin;
  await page.goto('/tickets');
  const first = await rowIds(page, 200);
  await page.getByRole('button', { name: 'Next →' }).click();
  await page.waitForURL((u) => u.searchParams.has('cursor') && u.searchParams.get('page') === '2');
  const second = await rowIds(page, 10);
  assert.equal(second.filter((id) => first.includes(id)).length, 0, 'page 2 holds other rows');
  const page2Url = page.url();

  await page.getByRole('button', { name: '← Previous' }).click();
  await page.waitForURL((u) => !u.searchParams.has('cursor'));
  assert.deepEqual(await rowIds(page, 200), first);

  await page.goBack();
  await page.waitForURL(page2Url);
  assert.deepEqual(await rowIds(page, 10), second, 'the back button returns to page 2');

  // A bookmarked page 2 opens on its own.
  const fresh = await page.context().newPage();
  await fresh.goto(page2Url);
  assert.deepEqual(await rowIds(fresh, 10), second);
  await fresh.close();
}

export async function resyncRow(ctx) {
  const page = ctx.admin;
  await page.goto('/tickets');
  await rowIds(page, 200);
  const row = page.locator('table[data-testid="tickets"] tbody tr').first();
  const key = (await row.getByTestId('deep-link').textContent()).trim();
  const linkId = await row.getAttribute('data-link');
  assert.equal((await row.getByTestId('vendor-state').textContent()).trim(), '1');

  // A person moves the incident to In Progress in ServiceNow.
  await ctx.stack.sim_('POST', '/_sim/servicenow/act', { user: 'beth.anglin', table: 'incident', op: 'update', record: key, fields: { state: '2' } });

  await row.getByRole('button', { name: `Re-sync ${key}` }).click();
  // The server read that one ticket and answered once the change was applied: the banner names
  // the ticket's new state, and the reload after the answer shows it without a Refresh.
  await textMatches(page, '[data-testid="banner"]', new RegExp(`Re-sync done: 1 ticket changed\\. ${key} now shows vendor state`));
  const cell = `tr[data-link="${linkId}"] [data-testid="vendor-state"]`;
  await textMatches(page, cell, /^\s*2\s*$/, 5_000);
  assert.match(await page.locator(`tr[data-link="${linkId}"]`).textContent(), /via resync/);

  // Again: nothing new, and the banner says so.
  await page.locator(`tr[data-link="${linkId}"]`).getByRole('button', { name: `Re-sync ${key}` }).click();
  await textMatches(page, '[data-testid="banner"]', new RegExp(`Re-sync done: 0 tickets changed\\. ${key} is already current`));
}

export async function resyncAllTwice(ctx) {
  const page = ctx.admin;
  await page.goto('/tickets');
  await rowIds(page, 200);
  await page.getByRole('button', { name: /^Re-sync all/ }).click();
  await textMatches(page, '[data-testid="banner"]', /Re-sync done: \d+ tickets? changed/);
  await textMatches(page, '[data-testid="countdown"]', /Next re-sync all in \d+ s/);
  assert.ok(await page.getByRole('button', { name: /^Re-sync all/ }).isDisabled());

  // A second tab has no countdown yet: the server refuses within its 60 s and says how long.
  const second = await page.context().newPage();
  await second.goto('/tickets');
  await rowIds(second, 200);
  await second.getByRole('button', { name: /^Re-sync all/ }).click();
  await textMatches(second, '[data-testid="banner"]', /once a minute/);
  const first = Number((await textMatches(second, '[data-testid="countdown"]', /in (\d+) s/)).match(/(\d+) s/)[1]);
  assert.ok(first > 0 && first <= 60, `countdown ${first}`);
  await screenshot(second, 'tickets-cooldown');
  // It counts down.
  await textMatches(second, '[data-testid="countdown"]', new RegExp(`in (${[...Array(first).keys()].join('|')}) s`), 5_000);
  await second.close();
}

/** Keyboard alone: sign in, skip to the content, reach the filters; the focus ring is visible. */
export async function keyboardOnly(ctx) {
  const context = await ctx.browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: ctx.stack.base });
  const page = await context.newPage();
  await page.goto('/sign-in');
  await page.waitForFunction(() => document.activeElement?.getAttribute('name') === 'token');
  await page.keyboard.type(ctx.stack.a.viewer);
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/tickets$/);
  await page.locator('table[data-testid="tickets"] tbody tr').first().waitFor();
  // A fresh load (a bookmark) starts at the skip link.
  await page.reload();
  await page.locator('table[data-testid="tickets"] tbody tr').first().waitFor();
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'q', 'the search box follows the skip link');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none', 'the focused control shows a focus ring');
  await page.keyboard.type('Log4Shell');
  await page.keyboard.press('Enter');
  await page.waitForURL((u) => u.searchParams.get('q') === 'Log4Shell');
  for (const text of await page.locator('table[data-testid="tickets"] tbody tr').allTextContents()) assert.match(text, /Log4Shell/);
  await context.close();
}
