// The user's own settings: language and time zone (remembered on the server with
// PATCH /auth/me and applied at every sign-in), display name, password, and API tokens for
// scripts (a new token's secret is shown once; the server keeps only its hash).
import { h, replace } from '../dom';
import { t } from '../i18n';
import { get, post, del, describe } from '../api';
import { isValidTimeZone, timeZone, formatDateTime } from '../format';
import type { PageContext } from '../app';
import { pageHeader, section, field, input, select, submit, formActions, busy, messageArea, dl, orgLabel, table, button, badge, loading, notice, confirmAction, secretReveal } from '../ui/components';
import { saveProfile } from '../session';
import { tEnum } from '../i18n';

function zones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  const list = intl.supportedValuesOf ? intl.supportedValuesOf('timeZone') : ['Asia/Tokyo', 'UTC', 'Europe/London', 'America/New_York'];
  return list.includes('UTC') ? list : ['UTC', ...list];
}

export function render(ctx: PageContext): HTMLElement {
  const { me } = ctx.session;
  const messages = messageArea();
  const language = field(t('settings.language'), select([['en', 'English'], ['ja', '日本語']], me.locale), { help: t('settings.language_help') });
  const zoneList = zones();
  const zone = field(t('settings.time_zone'), select(zoneList.map((z) => [z, z]), zoneList.includes(me.time_zone) ? me.time_zone : 'UTC'), { help: t('settings.time_zone_help') });
  const display = field(t('users.display_name'), input('text', { value: me.user.display_name, maxlength: 200, autocomplete: 'name' }), { required: true });
  const profile = h('form', { novalidate: true }, language.el, zone.el, display.el, formActions(submit(t('common.save'))));
  profile.addEventListener('submit', async (event) => {
    event.preventDefault();
    display.setError(null);
    if (!display.control.value.trim()) { display.setError(t('validation.required')); display.control.focus(); return; }
    if (!isValidTimeZone(zone.control.value)) { zone.setError(t('settings.time_zone_invalid')); return; }
    try {
      await busy(profile, () => saveProfile({
        locale: language.control.value as 'en' | 'ja', time_zone: zone.control.value, display_name: display.control.value.trim(),
      }));
      ctx.refresh();
    } catch (error) {
      messages.show('error', describe(error));
    }
  });

  const pwMessages = messageArea();
  const current = field(t('settings.current_password'), input('password', { autocomplete: 'current-password' }), { required: true });
  const next = field(t('settings.new_password'), input('password', { autocomplete: 'new-password', minlength: 12 }), { required: true, help: t('users.password_help') });
  const repeat = field(t('settings.repeat_password'), input('password', { autocomplete: 'new-password' }), { required: true });
  const password = h('form', { novalidate: true }, pwMessages.el, current.el, next.el, repeat.el, formActions(submit(t('settings.change_password'))));
  password.addEventListener('submit', async (event) => {
    event.preventDefault();
    [current, next, repeat].forEach((f) => f.setError(null));
    if (!current.control.value) { current.setError(t('validation.required')); current.control.focus(); return; }
    if (next.control.value.length < 12) { next.setError(t('users.password_help')); next.control.focus(); return; }
    if (next.control.value !== repeat.control.value) { repeat.setError(t('settings.passwords_differ')); repeat.control.focus(); return; }
    try {
      await busy(password, () => post('/api/v1/auth/password', { current_password: current.control.value, new_password: next.control.value }));
      password.reset();
      pwMessages.show('success', t('settings.password_changed'));
    } catch (error) {
      pwMessages.show('error', describe(error));
    }
  });

  return h('div', null,
    pageHeader(t('settings.title')),
    messages.el,
    section(t('settings.account'), dl([
      [t('users.username'), h('code', null, me.user.username)],
      [t('common.organization'), orgLabel(me.organization)],
      [t('users.roles'), me.roles.map((r) => tEnum('role', r)).join(', ')],
      [t('settings.now'), `${formatDateTime(new Date().toISOString())} (${timeZone()})`],
    ])),
    section(t('settings.preferences'), profile),
    section(t('settings.password'), password),
    section(t('tokens.title'), tokensPanel()));
}

interface ApiToken {
  id: string; name: string; scopes: string[]; status: 'active' | 'expired' | 'revoked';
  created_at: string; expires_at: string | null; revoked_at: string | null; last_used_at: string | null;
}

const SCOPES = ['read', 'write', 'admin'];
const LIFETIMES: [string, string][] = [['30', 'tokens.days_30'], ['90', 'tokens.days_90'], ['365', 'tokens.days_365'], ['', 'tokens.never']];

function tokensPanel(): HTMLElement {
  const messages = messageArea();
  const list = h('div', null, loading());
  const reveal = h('div');
  const load = async () => {
    try {
      const { items } = await get<{ items: ApiToken[] }>('/api/v1/tokens');
      replace(list, table([
        { label: t('tokens.name'), render: (k: ApiToken) => k.name },
        { label: t('tokens.scopes'), render: (k) => k.scopes.map((scope) => t(`tokens.scope.${scope}`)).join(', ') },
        { label: t('common.status'), render: (k) => badge(t(`tokens.status.${k.status}`), k.status === 'active' ? 'status status-ok' : 'status status-closed') },
        { label: t('common.created'), render: (k) => formatDateTime(k.created_at) },
        { label: t('tokens.expires'), render: (k) => (k.expires_at ? formatDateTime(k.expires_at) : t('tokens.never')) },
        { label: t('tokens.last_used'), render: (k) => (k.last_used_at ? formatDateTime(k.last_used_at) : '—') },
        { label: t('common.actions'), render: (k) => (k.status !== 'active' ? '—' : button(t('tokens.revoke'), async () => {
          if (!await confirmAction(t('tokens.revoke_title'), t('tokens.revoke_body', { name: k.name }), t('tokens.revoke'))) return;
          try {
            await del(`/api/v1/tokens/${encodeURIComponent(k.id)}`);
            replace(reveal);  // a secret shown earlier may be the one just revoked
            await load();
          } catch (error) {
            messages.show('error', describe(error));
          }
        }, { class: 'btn btn-small btn-danger', 'aria-label': t('tokens.revoke_named', { name: k.name }) })) },
      ], items, { empty: t('tokens.empty'), label: t('tokens.title') }));
    } catch (error) {
      replace(list, notice('error', describe(error)));
    }
  };

  const name = field(t('tokens.name'), input('text', { maxlength: 100, autocomplete: 'off' }), { required: true, help: t('tokens.name_help') });
  const boxes = SCOPES.map((scope) => {
    const box = h('input', { type: 'checkbox', id: `token-scope-${scope}`, value: scope, checked: scope === 'read' });
    return { box, el: h('div', { class: 'field-check' }, box, h('label', { for: `token-scope-${scope}` }, t(`tokens.scope.${scope}`))) };
  });
  const scopes = h('fieldset', null, h('legend', null, t('tokens.scopes')), h('p', { class: 'help' }, t('tokens.scopes_help')), ...boxes.map((b) => b.el));
  const lifetime = field(t('tokens.lifetime'), select(LIFETIMES.map(([value, key]) => [value, t(key)]), '90'));
  const form = h('form', { novalidate: true }, name.el, scopes, lifetime.el, formActions(submit(t('tokens.create'))));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    name.setError(null);
    messages.clear();
    replace(reveal);
    const chosen = boxes.filter((b) => b.box.checked).map((b) => b.box.value);
    if (!name.control.value.trim()) { name.setError(t('validation.required')); name.control.focus(); return; }
    if (!chosen.length) { messages.show('error', t('tokens.scopes_required')); boxes[0].box.focus(); return; }
    const body: Record<string, unknown> = { name: name.control.value.trim(), scopes: chosen };
    if (lifetime.control.value) body.expires_at = new Date(Date.now() + Number(lifetime.control.value) * 86400000).toISOString();
    try {
      const created = await busy(form, () => post<ApiToken & { token: string }>('/api/v1/tokens', body));
      form.reset();
      lifetime.control.value = '90';
      replace(reveal,
        notice('success', t('tokens.created', { name: created.name })),
        secretReveal(t('tokens.secret'), created.token, t('tokens.secret_once')));
      reveal.querySelector('input')?.focus();
      await load();
    } catch (error) {
      messages.show('error', describe(error));
    }
  });
  void load();
  return h('div', null, h('p', { class: 'help' }, t('tokens.lead')), messages.el, list, reveal, h('h3', null, t('tokens.new')), form);
}
