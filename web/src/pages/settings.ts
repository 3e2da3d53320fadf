// The user's own settings: language and time zone (remembered on the server with
// PATCH /auth/me and applied at every sign-in), display name, and password.
import { h } from '../dom';
import { t } from '../i18n';
import { post, describe } from '../api';
import { isValidTimeZone, timeZone, formatDateTime } from '../format';
import type { PageContext } from '../app';
import { pageHeader, section, field, input, select, submit, formActions, busy, messageArea, dl, orgLabel } from '../ui/components';
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
    section(t('settings.password'), password));
}
