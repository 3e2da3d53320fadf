// Sign-in: user name and password; the session cookie is set by the server. Afterwards the
// user's own language and time zone (from /auth/me) apply, and the page they wanted opens.
import { h } from '../dom';
import { t } from '../i18n';
import { describe } from '../api';
import { signIn } from '../session';
import { navigate, currentQuery } from '../router';
import { field, input, submit, messageArea, busy } from '../ui/components';

export function render(): HTMLElement {
  const username = field(t('auth.username'), input('text', { autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false' }), { required: true, name: 'username' });
  const password = field(t('auth.password'), input('password', { autocomplete: 'current-password' }), { required: true, name: 'password' });
  const messages = messageArea();
  const form = h('form', { class: 'signin-form', novalidate: true },
    messages.el, username.el, password.el, submit(t('auth.sign_in')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    messages.clear();
    username.setError(null);
    password.setError(null);
    const name = username.control.value.trim();
    const secret = password.control.value;
    if (!name) username.setError(t('validation.required'));
    if (!secret) password.setError(t('validation.required'));
    if (!name || !secret) {
      (name ? password.control : username.control).focus();
      return;
    }
    try {
      await busy(form, () => signIn(name, secret));
      const next = currentQuery().get('next');
      navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/', true);
    } catch (error) {
      messages.show('error', describe(error));
      password.control.value = '';
      password.control.focus();
    }
  });
  if (currentQuery().get('expired')) messages.show('info', t('error.401'));
  return h('div', { class: 'signin' },
    h('div', { class: 'signin-brand', 'aria-hidden': 'true' }, '櫓'),
    h('h1', { tabindex: '-1' }, t('auth.title')),
    h('p', { class: 'lead' }, t('auth.lead')),
    form);
}
