// The web workbench in Debian's Chromium against real services (scripts/test-web.sh runs this).
// One stack for the whole file; the tests run in order and share the signed-in pages.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launch, screenshot } from './browser.mjs';
import { Stack, missing } from './harness.mjs';
import { seed } from './seed.mjs';
import { keyboardOnly, pageForwardAndBack, resyncAllTwice, resyncRow, signInAndFilter } from './tickets.mjs';
import { revokedTokenCannotSignIn, webhookSecretShownOnce } from './admin.mjs';
import { bulkEscalate, escalateOne, integrationLifecycle, integrationsAdmin, otherTenantSeesNothing, viewerCannotEscalate } from './escalation.mjs';

const skip = missing.length ? `set ${missing.join(', ')} (scripts/test-web.sh does)` : false;
const ctx = {};

before(async () => {
  if (skip) return;
  ctx.stack = await new Stack().start();
  try {
    ctx.seeded = await seed(ctx.stack);
  } catch (e) {
    console.error(ctx.stack.upLog());
    throw e;
  }
  ctx.browser = await launch();
}, { timeout: 300_000 });

after(async () => {
  if (skip) return;
  const errors = [ctx.admin, ctx.analyst].flatMap((p) => p?.errors ?? []);
  await ctx.browser?.close();
  if (process.env.WEB_TEST_LOG && ctx.stack) console.error(ctx.stack.upLog());
  await ctx.stack?.stop();
  assert.deepEqual(errors, [], 'no script error or CSP violation on any page');
});

let failures = 0;
const t = (name, body, timeout = 120_000) =>
  test(name, { skip, timeout }, async () => {
    try {
      await body(ctx);
    } catch (e) {
      // What each open page showed when the test failed.
      failures += 1;
      const pages = ctx.browser?.contexts().flatMap((c) => c.pages()) ?? [];
      await Promise.all(pages.map((p, i) => screenshot(p, `failed-${failures}-${i}`).catch(() => {})));
      throw e;
    }
  });

t('sign in; filter by SLA breached and severity; the copied URL shows the same rows', signInAndFilter);
t('keyboard alone: sign in, skip link, filters, visible focus', keyboardOnly);
t('page forward and back (buttons, back button, bookmarked page)', pageForwardAndBack);
t('re-sync a row after a change in the emulator and see it', resyncRow);
t('re-sync all twice: the server cooldown shows as a countdown', resyncAllTwice);
t('escalate a finding: vendor fields, dry run, create, follow the deep link', escalateOne);
t('bulk-escalate 50: 3 already linked, 2 failing in the emulator and retried alone', bulkEscalate, 240_000);
t('integrations: connection test, pause and resume; analysts see no admin controls', integrationsAdmin);
t('a viewer sees but cannot escalate, and the server refuses it', viewerCannotEscalate);
t('a second tenant sees nothing of the first in any page or API', otherTenantSeesNothing);
t('integrations: create in the form, connection test remedies, rotate credentials, mapping checked, auto-close', integrationLifecycle);
t('webhook secret: rotate shows the new secret once (copy, warning), retire the old; analysts see neither', webhookSecretShownOnce);
t('API tokens: a viewer sees none; the admin revokes its token, which then fails to sign in', revokedTokenCannotSignIn);
