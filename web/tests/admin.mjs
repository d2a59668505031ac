// Admin pages: the webhook secret rotated on an integration's page is shown once (copy button,
// warning, gone after a reload); an API token revoked on the tokens page ends its session and no
// longer signs in. Viewers and analysts see neither, and the server refuses them anyway.

import assert from 'node:assert/strict';
import { screenshot, signIn, textMatches } from './browser.mjs';

const SECRET = '[data-testid="new-webhook-secret"]';

export async function webhookSecretShownOnce(ctx) {
  const { stack, seeded } = ctx;
  const page = ctx.admin;
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: stack.base });
  await page.goto(`/integrations/${seeded.integration.id}`);
  await page.getByRole('heading', { name: 'Webhook secret' }).waitFor();
  // By keyboard: the action is a button that Enter presses; focus lands on the secret.
  await page.getByRole('button', { name: 'Rotate webhook secret' }).focus();
  await page.keyboard.press('Enter');
  const field = page.getByLabel('New webhook secret');
  await field.waitFor();
  const first = await field.inputValue();
  assert.match(first, /^[0-9a-f]{64}$/);
  assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'new-webhook-secret');
  await textMatches(page, '[data-testid="secret-once"]', /it will not be shown again/);
  await page.getByRole('button', { name: 'Copy secret' }).click();
  await textMatches(page, '[data-testid="secret-once"]', /Copied\./);
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), first);
  await screenshot(page, 'webhook-secret-once');

  // Rotating again shows a new one; the first stays accepted until retired.
  await page.getByRole('button', { name: 'Rotate webhook secret' }).click();
  await page.waitForFunction(([sel, old]) => {
    const input = document.querySelector(sel);
    return !!input && input.value !== old;
  }, [SECRET, first]);
  const second = await field.inputValue();
  assert.match(second, /^[0-9a-f]{64}$/);
  await textMatches(page, '[data-testid="secret-once"]', /1 previous secret is still accepted/);

  // Shown once: not after a reload, not in any answer about the integration.
  await page.reload();
  await page.getByRole('heading', { name: 'Webhook secret' }).waitFor();
  assert.equal(await page.locator(SECRET).count(), 0);
  const html = await page.content();
  assert.ok(!html.includes(first) && !html.includes(second), 'the page never shows a secret again');
  const integration = JSON.stringify(await stack.api(stack.a.admin, 'GET', `/v1/integrations/${seeded.integration.id}`));
  assert.ok(!integration.includes(second), 'the API never answers it again');
  assert.match(integration, /"webhook_secret_set":true/);

  await page.getByRole('button', { name: 'Retire old secrets' }).click();
  await textMatches(page, '.banner[role="status"]', /Retired 1 old secret: only the current webhook secret is accepted now/);

  // An analyst sees neither action; the server refuses one anyway.
  const analyst = ctx.analyst;
  await analyst.goto(`/integrations/${seeded.integration.id}`);
  await analyst.getByRole('heading', { name: 'Mapping' }).waitFor();
  assert.equal(await analyst.getByRole('button', { name: 'Rotate webhook secret' }).count(), 0);
  assert.equal(await analyst.getByRole('button', { name: 'Retire old secrets' }).count(), 0);
  const refused = await analyst.evaluate(async (id) => {
    const res = await fetch(`/v1/integrations/${id}/webhook-secret`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"generate":true}' });
    return res.status;
  }, seeded.integration.id);
  assert.equal(refused, 403, 'refused (no CSRF token from a script, or the role)');
}

export async function revokedTokenCannotSignIn(ctx) {
  const { stack } = ctx;
  const page = ctx.admin;
  // A viewer has no tokens link, the page explains, and the server refuses the list.
  const viewer = await signIn(ctx.browser, stack.base, stack.a.viewer);
  assert.equal(await viewer.getByRole('link', { name: 'API tokens' }).count(), 0);
  await viewer.goto('/tokens');
  await textMatches(viewer, 'main', /Only admins see and revoke API tokens/);
  assert.equal(await viewer.evaluate(async () => (await fetch('/v1/tokens')).status), 403);

  await page.goto('/tickets');
  await page.getByRole('link', { name: 'API tokens' }).click();
  await page.getByRole('heading', { name: 'API tokens', level: 1 }).waitFor();
  await textMatches(page, 'tr[data-token="viewer-web"]', /viewer.*active/);
  await textMatches(page, 'table[data-testid="tokens"]', /analyst-web/);
  await screenshot(page, 'tokens');
  page.once('dialog', (d) => {
    assert.match(d.message(), /Revoke the API token "viewer-web"/);
    void d.accept();
  });
  await page.getByRole('button', { name: 'Revoke viewer-web' }).click();
  await textMatches(page, '.banner[role="status"]', /Token viewer-web revoked/);
  await textMatches(page, 'tr[data-token="viewer-web"]', /revoked/);
  assert.equal(await page.getByRole('button', { name: 'Revoke viewer-web' }).count(), 0);

  // The viewer's session ended with its token, and the token no longer signs in.
  await viewer.goto('/tickets');
  await viewer.waitForURL(/\/sign-in/);
  await viewer.getByLabel('API token').fill(stack.a.viewer);
  await viewer.getByRole('button', { name: 'Sign in' }).click();
  await textMatches(viewer, 'p.error[role="alert"]', /unknown or revoked/);
  assert.match(viewer.url(), /\/sign-in/);
  assert.deepEqual(viewer.errors, []);
  await viewer.context().close();
}
