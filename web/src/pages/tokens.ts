// API tokens (admins): every token of the tenant with its role and when it was created, last used
// and revoked; revoking one refuses it (and its sessions) from its next request on. Non-admins get
// an explanation instead of the list (the server refuses them anyway: GET /v1/tokens is admin).

import { can, get, message, post, session } from '../api';
import { h, replace, time } from '../dom';
import type { PageContext } from '../main';

interface Token {
  id: string;
  name: string;
  role: string;
  create_time: string | null;
  last_use_time: string | null;
  revoke_time: string | null;
}

export async function tokensPage({ main, stale }: PageContext): Promise<void> {
  if (!can('admin')) {
    replace(main, h('h1', {}, 'API tokens'), h('p', { class: 'muted' }, 'Only admins see and revoke API tokens.'));
    return;
  }
  const { tokens } = await get<{ tokens: Token[] }>('/v1/tokens');
  if (stale()) return;
  const status = h('div', { class: 'banner', role: 'status', 'aria-live': 'polite' });
  const say = (text: string, cls = 'ok') => {
    status.className = `banner ${cls}`;
    status.textContent = text;
  };
  const body = h('tbody', {});
  const draw = (list: Token[]) => replace(body, list.map((t) => row(t, list, draw, say)));
  draw(tokens);
  replace(
    main,
    h('h1', {}, 'API tokens'),
    h('p', { class: 'muted' }, 'Tokens are created with lockstep admin create-token; their secrets are never shown here.'),
    status,
    h(
      'div',
      { class: 'table-wrap spaced' },
      h(
        'table',
        { class: 'grid', 'data-testid': 'tokens' },
        h('caption', { class: 'sr-only' }, 'API tokens of this tenant'),
        h('thead', {}, h('tr', {}, ['Name', 'Role', 'Created', 'Last used', 'Revoked', 'Action'].map((c) => h('th', { scope: 'col' }, c)))),
        body,
      ),
    ),
  );
}

function row(t: Token, list: Token[], draw: (list: Token[]) => void, say: (text: string, cls?: string) => void): HTMLElement {
  let action: HTMLElement | string = '—';
  if (!t.revoke_time) {
    const button = h('button', { type: 'button', 'aria-label': `Revoke ${t.name}` }, 'Revoke');
    button.addEventListener('click', async () => {
      const own = session()?.name === t.name;
      const warning = own ? ' This is the token you signed in with: you will be signed out.' : '';
      if (!confirm(`Revoke the API token "${t.name}"? Every request and session with it is refused from now on.${warning}`)) return;
      button.disabled = true;
      try {
        const revoked = await post<Token>(`/v1/tokens/${encodeURIComponent(t.id)}/revoke`);
        draw(list.map((x) => (x.id === revoked.id ? revoked : x)));
        say(`Token ${revoked.name} revoked.`);
      } catch (e) {
        button.disabled = false;
        say(message(e), 'error');
      }
    });
    action = button;
  }
  return h(
    'tr',
    { 'data-token': t.name },
    h('th', { scope: 'row' }, t.name),
    h('td', {}, t.role),
    h('td', {}, time(t.create_time)),
    h('td', {}, t.last_use_time ? time(t.last_use_time) : 'never'),
    h('td', {}, t.revoke_time ? h('span', { class: 'chip warn' }, 'revoked ', time(t.revoke_time)) : 'active'),
    h('td', {}, action),
  );
}
