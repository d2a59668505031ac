// Debian's Chromium driven by the Playwright library (playwright-core: no browser download).
// Playwright gives every launch a fresh, temporary --user-data-dir of its own; the flags below
// keep Chromium from reaching out (no component updates, no sync, no QUIC, no first-run).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const VIEWPORT = { width: 1280, height: 800 };
const SHOTS = process.env.SCREENSHOT_DIR || join(process.cwd(), '..', '.run', 'screenshots');

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A fresh browser context (own cookies) signed in with `token` through the sign-in page. */
export async function signIn(browser, base, token, { shot } = {}) {
  const context = await browser.newContext({ viewport: VIEWPORT, baseURL: base });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    // A CSP violation is reported on the console: it would mean the strict policy broke a page.
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) errors.push(m.text());
  });
  page.errors = errors;
  await page.goto('/tickets');
  await page.waitForURL(/\/sign-in/);
  await page.getByLabel('API token').fill(token);
  if (shot) await screenshot(page, shot);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/tickets/);
  await page.getByRole('heading', { name: 'Tickets', level: 1 }).waitFor();
  return page;
}

export async function screenshot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
}

/** The link ids of the rows the tickets table shows, once it shows `n` of them. */
export async function rowIds(page, n) {
  const rows = page.locator('table[data-testid="tickets"] tbody tr');
  if (n !== undefined) await page.waitForFunction((want) => document.querySelectorAll('table[data-testid="tickets"] tbody tr').length === want, n);
  else await rows.first().waitFor();
  return rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-link')));
}

/** Waits until `locator`'s text matches `re` (Playwright's auto-wait, no sleep). */
export async function textMatches(page, selector, re, timeout = 30_000) {
  try {
    await page.waitForFunction(
      ([sel, src, flags]) => {
        const el = document.querySelector(sel);
        return !!el && new RegExp(src, flags).test(el.textContent ?? '');
      },
      [selector, re.source, re.flags],
      { timeout },
    );
  } catch (e) {
    // Say what the page showed instead, so a failure explains itself.
    const shown = await page.locator(selector).first().textContent({ timeout: 1_000 }).catch(() => '(no such element)');
    throw new Error(`${selector} never matched ${re} within ${timeout} ms; it shows: ${JSON.stringify(shown)} (${e.message})`);
  }
  return page.locator(selector).textContent();
}
