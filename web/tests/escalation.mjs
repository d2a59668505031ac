// Escalation from a finding, bulk escalation, what a viewer can do, tenant isolation, integrations.

import assert from 'node:assert/strict';
import { screenshot, signIn, textMatches } from './browser.mjs';
import { TICKETED } from './seed.mjs';

export async function escalateOne(ctx) {
  const { stack, seeded } = ctx;
  const page = await signIn(ctx.browser, stack.base, stack.a.analyst);
  ctx.analyst = page;
  const id = seeded.ids[TICKETED]; // the first finding without a ticket
  await page.goto(`/findings/${id}`);
  await page.getByRole('heading', { name: 'Escalate' }).waitFor();
  // The form's fields come from the instance: urgency is a choice list.
  const urgency = page.getByLabel('Urgency', { exact: false });
  await urgency.locator('option[value="1"]').waitFor({ state: 'attached' });
  await urgency.selectOption('1');
  await page.getByRole('button', { name: 'Dry run' }).click();
  const preview = page.getByTestId('preview');
  await preview.waitFor();
  assert.match(await preview.textContent(), /Nothing was sent/);
  assert.match(await preview.textContent(), /urgency\s*1 - High\s*request/);
  await screenshot(page, 'finding-dry-run');
  const before = await stack.sim_('GET', '/_sim/servicenow/records/incident');
  assert.ok(!JSON.stringify(before).includes(`lockstep:${id}`), 'the dry run sent nothing');

  await page.getByRole('button', { name: 'Create ticket' }).click();
  await textMatches(page, '[data-testid="escalation-result"]', /Created INC\d+/);
  const link = page.getByTestId('finding-tickets').getByTestId('deep-link');
  await link.waitFor();
  await screenshot(page, 'finding');
  // Follow the deep link: it opens the emulator's record of this finding.
  // (The emulator serves the API only, so the record page itself answers 404: the request shows
  // the browser went to the emulator's record; its content is read through the control API.)
  const [popup, request] = await Promise.all([
    page.waitForEvent('popup'),
    page.context().waitForEvent('request', (r) => r.url().includes('.do?sys_id=')),
    link.click(),
  ]);
  const url = new URL(request.url());
  assert.equal(url.origin, new URL(stack.simUrl).origin);
  assert.equal(url.pathname, '/incident.do');
  const record = await stack.sim_('GET', `/_sim/servicenow/records/incident/${url.searchParams.get('sys_id')}`);
  assert.equal(record.correlation_id ?? record.result?.correlation_id, `lockstep:${id}`);
  assert.equal(String(record.urgency ?? record.result?.urgency), '1');
  await popup.close();
}

export async function bulkEscalate(ctx) {
  const { stack, seeded } = ctx;
  const page = ctx.analyst;
  const linked = seeded.ids.slice(0, 3);
  const fresh = seeded.ids.slice(TICKETED + 1, TICKETED + 48);
  const chosen = [...linked, ...fresh];
  assert.equal(chosen.length, 50);
  // Two of the creates fail in the emulator: the Batch API serves nothing, so every item is sent
  // singly, and the first two single creates are refused with a 429 whose Retry-After (an hour)
  // is past the connector's cap: refused outright, nothing created, the link freed for a retry.
  await stack.sim_('PATCH', '/_sim/servicenow/settings', { batch_max_requests: 0 });
  await stack.sim_('PUT', '/_sim/faults', [
    { method: 'POST', path_prefix: '/api/now/table/incident', error_rate: 1.0, error: { kind: 'too_many_requests', retry_after_secs: 3600 }, times: 2 },
  ]);

  await page.goto('/findings');
  const remaining = new Set(chosen);
  for (;;) {
    await page.locator('table[data-testid="findings"] tbody tr').first().waitFor();
    for (const id of [...remaining]) {
      const box = page.locator(`tr[data-finding="${id}"] input[type="checkbox"]`);
      if (await box.count()) {
        await box.check();
        remaining.delete(id);
      }
    }
    if (!remaining.size) break;
    const next = page.getByRole('button', { name: 'Next →' });
    assert.ok(await next.isEnabled(), `findings not listed: ${[...remaining]}`);
    const before = page.url();
    await next.click();
    await page.waitForURL((u) => u.href !== before);
  }
  await textMatches(page, '[data-testid="selected-count"]', /^50 selected/);

  await page.getByRole('button', { name: 'Check duplicates' }).click();
  await textMatches(page, '[data-testid="preflight"]', /3 of 50 selected already linked/);
  await page.getByRole('button', { name: 'Dry run' }).click();
  await textMatches(page, '[data-testid="bulk-preview"]', /47 tickets would be created, 3 not/);
  await page.getByRole('button', { name: 'Create tickets' }).click();
  await textMatches(page, '[data-testid="bulk-summary"]', /45 created, 3 already linked, 2 failed/, 120_000);
  await screenshot(page, 'findings-bulk');

  // The failures are retried alone once the emulator is healthy again.
  await stack.sim_('PUT', '/_sim/faults', []);
  await stack.sim_('PATCH', '/_sim/servicenow/settings', { batch_max_requests: null });
  const failed = page.locator('[data-testid="bulk-results"] tr[data-outcome="failed"]');
  assert.equal(await failed.count(), 2);
  for (let i = 0; i < 2; i++) {
    await failed.first().getByRole('button', { name: 'Retry' }).click();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="bulk-results"] tr[data-outcome="failed"]').length === n, 1 - i);
  }
  assert.equal(await page.locator('[data-testid="bulk-results"] tr[data-outcome="created"]').count(), 47);
  const check = await stack.api(stack.a.viewer, 'POST', '/v1/tickets/check', { finding_ids: chosen, integration_id: seeded.integration.id });
  assert.equal(check.findings.filter((f) => f.linked).length, 50, 'every chosen finding has its one ticket');
}

export async function viewerCannotEscalate(ctx) {
  const { stack, seeded } = ctx;
  const page = await signIn(ctx.browser, stack.base, stack.a.viewer);
  await page.locator('table[data-testid="tickets"] tbody tr').first().waitFor();
  assert.equal(await page.getByRole('button', { name: /^Re-sync/ }).count(), 0, 'no re-sync for viewers');
  await page.goto(`/findings/${seeded.ids[TICKETED + 60] ?? seeded.ids[0]}`);
  await page.getByRole('heading', { name: 'Activity' }).waitFor();
  assert.equal(await page.getByRole('heading', { name: 'Escalate' }).count(), 0);
  assert.equal(await page.getByRole('button', { name: 'Create ticket' }).count(), 0);
  await page.goto('/findings');
  await page.locator('table[data-testid="findings"] tbody tr').first().waitFor();
  assert.equal(await page.getByRole('heading', { name: 'Bulk escalation' }).count(), 0);
  assert.equal(await page.locator('table[data-testid="findings"] input[type="checkbox"]').count(), 0);
  // And the server refuses it anyway, even with a valid CSRF token.
  const status = await page.evaluate(async ([findingId, integrationId]) => {
    const s = await (await fetch('/v1/session')).json();
    const res = await fetch('/v1/tickets', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token },
      body: JSON.stringify({ request_id: crypto.randomUUID(), finding_id: findingId, spec: { integration_id: integrationId } }),
    });
    return res.status;
  }, [seeded.ids[TICKETED + 60], seeded.integration.id]);
  assert.equal(status, 403);
  await page.context().close();
}

export async function otherTenantSeesNothing(ctx) {
  const { stack, seeded } = ctx;
  const page = await signIn(ctx.browser, stack.base, stack.b.admin);
  await page.getByText('No linked tickets match these filters.').waitFor();
  await page.goto('/findings');
  await page.locator('table[data-testid="findings"] tbody tr').first().waitFor();
  const titles = await page.locator('table[data-testid="findings"] tbody tr').allTextContents();
  assert.equal(titles.length, 1);
  assert.match(titles[0], /Globex only/);
  await page.goto(`/findings/${seeded.ids[0]}`);
  await page.getByRole('alert').waitFor();
  assert.match(await page.getByRole('alert').textContent(), /not found/i);
  await page.goto('/integrations');
  await page.getByText('No integration yet.').waitFor();
  const api = await page.evaluate(async ([finding, integration]) => {
    const status = async (p) => (await fetch(p)).status;
    const tickets = await (await fetch('/v1/tickets?page_size=200')).json();
    return {
      rows: tickets.rows.length,
      finding: await status(`/v1/findings/${finding}`),
      activity: await status(`/v1/findings/${finding}/activity`),
      integration: await status(`/v1/integrations/${integration}`),
      fields: await status(`/v1/integrations/${integration}/fields?container=incident`),
      csv: (await (await fetch('/v1/tickets.csv')).text()).trim().split('\n').length,
    };
  }, [seeded.ids[0], seeded.integration.id]);
  assert.deepEqual(api, { rows: 0, finding: 404, activity: 404, integration: 404, fields: 404, csv: 1 });
  await page.context().close();
}

export async function integrationsAdmin(ctx) {
  const { stack, seeded } = ctx;
  const page = ctx.admin;
  await page.goto('/integrations');
  await page.getByRole('link', { name: 'acme-sn' }).click();
  await page.waitForURL(new RegExp(`/integrations/${seeded.integration.id}$`));
  await page.getByRole('button', { name: 'Test connection' }).click();
  await textMatches(page, '[data-testid="checks"]', /Connection test passed/);
  await screenshot(page, 'integration');
  await page.getByRole('button', { name: 'Pause polling' }).click();
  await page.getByRole('button', { name: 'Resume polling' }).click();
  await page.getByRole('button', { name: 'Pause polling' }).waitFor();
  await page.goto('/integrations');
  await page.getByRole('table').waitFor();
  await screenshot(page, 'integrations');
  // An analyst sees the integration but none of the admin's controls.
  const analyst = ctx.analyst;
  await analyst.goto(`/integrations/${seeded.integration.id}`);
  await analyst.getByRole('heading', { name: 'Mapping' }).waitFor();
  assert.equal(await analyst.getByRole('button', { name: 'Test connection' }).count(), 0);
  assert.equal(await analyst.getByRole('button', { name: 'Rotate' }).count(), 0);
}

/** An admin creates an integration in the form, rotates its credentials and edits its mapping. */
export async function integrationLifecycle(ctx) {
  const { stack } = ctx;
  const page = ctx.admin;
  await page.goto('/integrations');
  await page.getByRole('heading', { name: 'New integration' }).waitFor();
  await page.getByLabel('Name', { exact: true }).fill('acme-sn-2');
  await page.getByLabel('Instance URL').fill(stack.simUrl);
  await page.getByLabel('User name').fill('lockstep.integration');
  await page.getByLabel('Password').fill('wrong-password');
  await page.getByRole('button', { name: 'Create integration' }).click();
  await page.waitForURL(/\/integrations\/[0-9a-f-]{36}$/);
  await page.getByRole('heading', { name: 'acme-sn-2' }).waitFor();

  // The wrong password shows in the connection test, with what to do about it.
  await page.getByRole('button', { name: 'Test connection' }).click();
  await textMatches(page, '[data-testid="checks"]', /Connection test found problems/);
  const failing = page.locator('[data-testid="checks"] tr', { has: page.locator('.chip.fail') });
  assert.ok((await failing.count()) > 0);
  assert.notEqual((await failing.first().locator('td').nth(3).textContent()).trim(), '—', 'a failing check names its remedy');

  const rotate = page.locator('form', { has: page.getByRole('heading', { name: 'Rotate credentials' }) });
  await rotate.getByLabel('User name').fill('lockstep.integration');
  await rotate.getByLabel('Password').fill('lockstep.integration');
  await rotate.getByRole('button', { name: 'Rotate' }).click();
  await page.getByText(/Credentials rotated; new fingerprint/).waitFor();
  await page.getByRole('button', { name: 'Test connection' }).click();
  await textMatches(page, '[data-testid="checks"]', /Connection test passed/);

  // The mapping is checked before it is saved: an impact outside the scale is refused by name.
  const rules = page.getByLabel('Rules (JSON)');
  const original = await rules.inputValue();
  const broken = original.replace(/"impact": 1\b/, '"impact": 9');
  assert.notEqual(broken, original, 'the default rules name an impact');
  await rules.fill(broken);
  await page.getByRole('button', { name: 'Validate and save' }).click();
  // Wait for the refusal itself: an earlier banner (the rotated fingerprint) may hold a 9 too.
  await textMatches(page, '.banner.error', /impact.*"9"/);
  await rules.fill(original);
  await page.getByRole('button', { name: 'Validate and save' }).click();
  await textMatches(page, '.banner', /Mapping saved/);

  // Auto-close on, saved, and still on after a reload.
  await page.getByLabel(/Auto-close/).check();
  await page.getByRole('button', { name: 'Save settings' }).click();
  await textMatches(page, '.banner', /Settings saved/);
  await page.reload();
  await page.getByRole('heading', { name: 'Settings' }).waitFor();
  assert.ok(await page.getByLabel(/Auto-close/).isChecked());
}
