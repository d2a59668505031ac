// Sign-in: an API token is exchanged for an HttpOnly, SameSite session cookie (POST /v1/session).
// The token never stays in the page: the field is cleared and nothing is stored by the script.

import { message, session, signIn } from '../api';
import { field, h, replace } from '../dom';
import { navigate, type PageContext } from '../main';

export function signInPage({ main, url }: PageContext): void {
  const next = safeNext(url.searchParams.get('next'));
  if (session()) {
    navigate(next, true);
    return;
  }
  const token = h('input', { type: 'password', name: 'token', autocomplete: 'off', required: true, spellcheck: 'false' });
  const error = h('p', { class: 'error', role: 'alert' });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'card narrow', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title' }, 'Sign in to Lockstep'),
    field('API token', token, 'An API token (lst_…) from your administrator (lockstep admin create-token). It is exchanged for a session; the page does not keep it.'),
    button,
    error,
  );
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    error.textContent = '';
    try {
      await signIn(token.value.trim());
      token.value = '';
      navigate(next, true);
    } catch (e) {
      error.textContent = message(e);
      button.disabled = false;
      token.focus();
    }
  });
  replace(main, form);
  token.focus();
}

/** Only our own paths: a crafted `next` must not send the user elsewhere. */
function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/sign-in')) return '/tickets';
  return next;
}
