// Webhook-secret rotation on an integration's page (admins): the server generates the new secret
// and answers it once (POST …/webhook-secret with generate), so it is shown here once, with a copy
// button and a warning; the replaced secrets stay accepted until "Retire old secrets", so the
// vendor can switch over without a delivery being refused.

import { message, post } from '../api';
import { field, h, replace, whileDisabled } from '../dom';

interface WebhookSecrets {
  previous_secrets: number;
  retired: number;
  webhook_secret?: string;
}

type Say = (text: string, cls?: string) => void;

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Copies `input`'s value: the Clipboard API, else the selection (older or locked-down browsers). */
async function copy(input: HTMLInputElement): Promise<void> {
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    input.select();
    if (!document.execCommand('copy')) throw new Error('Copying was refused by the browser: select the secret and copy it.');
  }
}

/** The new secret, shown once: a read-only field, a copy button, and what to do with it. */
function shownOnce(secret: string, previous: number, close: () => void): HTMLElement {
  const input = h('input', { type: 'text', readonly: true, spellcheck: 'false', autocomplete: 'off', class: 'code', 'data-testid': 'new-webhook-secret' });
  input.value = secret;
  const copied = h('span', { role: 'status', class: 'muted' });
  const copyButton = h('button', { type: 'button' }, 'Copy secret');
  copyButton.addEventListener('click', async () => {
    try {
      await copy(input);
      copied.textContent = 'Copied.';
    } catch (e) {
      copied.textContent = message(e);
    }
  });
  const done = h('button', { type: 'button' }, 'I have copied it: hide the secret');
  done.addEventListener('click', close);
  const box = h(
    'div',
    { class: 'secret-once', 'data-testid': 'secret-once' },
    h('p', { class: 'warn', id: 'secret-warning' }, 'Copy this secret now and set it in the vendor’s webhook configuration: it will not be shown again.'),
    field('New webhook secret', input),
    h('div', { class: 'actions' }, copyButton, done, copied),
    h(
      'p',
      { class: 'muted' },
      previous
        ? `${plural(previous, 'previous secret is', 'previous secrets are')} still accepted until you retire them, so deliveries keep arriving while the vendor switches over.`
        : 'No previous secret is accepted.',
    ),
  );
  input.setAttribute('aria-describedby', 'secret-warning');
  return box;
}

export function webhookSecretSection(path: string, say: Say): HTMLElement {
  const out = h('div', { 'aria-live': 'polite' });
  const rotate = h('button', { type: 'button' }, 'Rotate webhook secret');
  const retire = h('button', { type: 'button' }, 'Retire old secrets');
  const busy = (b: HTMLButtonElement, f: () => Promise<void>) =>
    whileDisabled(b, f, (e) => say(message(e), 'error'));
  rotate.addEventListener('click', () =>
    busy(rotate, async () => {
      const res = await post<WebhookSecrets>(`${path}/webhook-secret`, { generate: true });
      const close = () => {
        replace(out);
        rotate.focus();
      };
      replace(out, shownOnce(res.webhook_secret ?? '', res.previous_secrets, close));
      say('Webhook secret rotated.');
      // Keyboard and screen-reader users land on the secret (and hear the warning).
      out.querySelector('input')?.focus();
    }),
  );
  retire.addEventListener('click', () =>
    busy(retire, async () => {
      const res = await post<WebhookSecrets>(`${path}/webhook-secret/retire`);
      replace(out);
      say(`Retired ${plural(res.retired, 'old secret', 'old secrets')}: only the current webhook secret is accepted now.`);
    }),
  );
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'webhook-secret-title' },
    h('h2', { id: 'webhook-secret-title' }, 'Webhook secret'),
    h(
      'p',
      { class: 'muted' },
      'Rotating makes a new secret current; the replaced one stays accepted until you retire old secrets, once the vendor signs with the new one.',
    ),
    h('div', { class: 'actions' }, rotate, retire),
    out,
  );
}
