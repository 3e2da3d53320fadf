// Users (administration): centre administrators manage everyone; an organisation's
// administrator manages its own users with the org_admin and org_reporter roles only.
import { h } from '../dom';
import { t, tEnum } from '../i18n';
import { getAll, post, patch, describe } from '../api';
import { formatDate, isValidTimeZone } from '../format';
import { currentQuery, setQuery } from '../router';
import type { PageContext } from '../app';
import type { Organization, User } from '../types';
import { grantableRoles } from '../access';
import { pageHeader, table, button, dialog, field, input, select, orgSelect, submit, formActions, busy, messageArea, orgName, filterBar, badge } from '../ui/components';
import { orgMap, invalidateUsers } from '../session';

export async function render(ctx: PageContext): Promise<HTMLElement> {
  const { access } = ctx.session;
  const orgs = await orgMap();
  const filter = currentQuery().get('org_id') ?? '';
  const users = await getAll<User>('/api/v1/users', access.manageAllUsers && filter ? { org_id: filter } : {});
  const orgFilter = access.manageAllUsers ? field(t('common.organization'), orgSelect([...orgs.values()], filter, t('common.any'))) : null;
  const rows = table([
    { label: t('users.username'), render: (u: User) => h('code', null, u.username) },
    { label: t('users.display_name'), render: (u) => u.display_name },
    { label: t('common.organization'), render: (u) => orgName(orgs, u.org_id) },
    { label: t('users.roles'), render: (u) => u.roles.map((r) => tEnum('role', r)).join(', ') },
    { label: t('users.email'), render: (u) => u.email ?? '—' },
    { label: t('common.status'), render: (u) => (u.disabled ? badge(t('users.disabled'), 'status status-closed') : badge(t('users.active'), 'status status-ok')) },
    { label: t('common.created'), render: (u) => formatDate(u.created_at) },
    { label: t('common.actions'), render: (u) => (u.id === ctx.session.me.user.id ? '—' : button(t('common.edit'), () => userDialog(ctx, orgs, u), { class: 'btn btn-small', 'aria-label': t('users.edit_named', { name: u.username }) })) },
  ], users, { label: t('users.title') });
  return h('div', null,
    pageHeader(t('users.title'), button(t('users.new'), () => userDialog(ctx, orgs, null), { class: 'btn btn-primary' })),
    orgFilter ? filterBar(() => { setQuery({ org_id: orgFilter.control.value }); ctx.refresh(); }, orgFilter.el) : null,
    rows);
}

function roleBoxes(roles: string[], checked: string[]): { el: HTMLElement; values(): string[] } {
  const boxes = roles.map((role) => {
    const id = `role-${role}`;
    const box = h('input', { type: 'checkbox', id, value: role, checked: checked.includes(role) });
    return { box, el: h('div', { class: 'field-check' }, box, h('label', { for: id }, tEnum('role', role))) };
  });
  return {
    el: h('fieldset', { class: 'roles' }, h('legend', null, t('users.roles')), ...boxes.map((b) => b.el)),
    values: () => boxes.filter((b) => b.box.checked).map((b) => b.box.value),
  };
}

function userDialog(ctx: PageContext, orgs: Map<string, Organization>, user: User | null): void {
  const { access, me } = ctx.session;
  const messages = messageArea();
  const manageable = [...orgs.values()].filter((o) => access.manageAllUsers || o.id === me.user.org_id);
  const org = field(t('common.organization'), orgSelect(manageable, user?.org_id ?? me.user.org_id), { required: true });
  if (user || !access.manageAllUsers) (org.control as HTMLSelectElement).disabled = true;
  const username = field(t('users.username'), input('text', { value: user?.username ?? '', pattern: '[a-z0-9._-]{3,64}', autocomplete: 'off' }), { required: true, help: t('users.username_help') });
  if (user) (username.control as HTMLInputElement).readOnly = true;
  const display = field(t('users.display_name'), input('text', { value: user?.display_name ?? '', maxlength: 200 }));
  const email = field(t('users.email'), input('email', { value: user?.email ?? '' }));
  const password = user ? null : field(t('users.password'), input('password', { autocomplete: 'new-password', minlength: 12 }), { required: true, help: t('users.password_help') });
  const locale = field(t('settings.language'), select([['en', 'English'], ['ja', '日本語']], user?.locale ?? 'ja'));
  const zone = field(t('settings.time_zone'), input('text', { value: user?.time_zone ?? 'Asia/Tokyo' }), { help: t('settings.time_zone_help') });
  const disabled = user ? h('input', { type: 'checkbox', id: 'user-disabled', checked: user.disabled }) : null;
  const rolesHolder = h('div');
  let roles = roleBoxes([], []);
  const syncRoles = () => {
    const type = orgs.get(org.control.value)?.type ?? '';
    roles = roleBoxes(grantableRoles(access, type), user?.roles ?? []);
    rolesHolder.replaceChildren(roles.el);
  };
  org.control.addEventListener('change', syncRoles);
  syncRoles();
  const form = h('form', { novalidate: true }, messages.el, org.el, username.el, display.el, email.el, password?.el, rolesHolder, locale.el, zone.el,
    disabled ? h('div', { class: 'field field-check' }, disabled, h('label', { for: 'user-disabled' }, t('users.disable'))) : null,
    formActions(submit(t('common.save'))));
  const d = dialog(user ? t('users.edit') : t('users.new'), form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    [username, password, zone].forEach((f) => f?.setError(null));
    messages.clear();
    const problems: [typeof username, string][] = [];
    if (!user && !/^[a-z0-9._-]{3,64}$/.test(username.control.value)) problems.push([username, t('users.username_help')]);
    if (password && password.control.value.length < 12) problems.push([password, t('users.password_help')]);
    if (!isValidTimeZone(zone.control.value)) problems.push([zone, t('settings.time_zone_invalid')]);
    const chosenRoles = roles.values();
    if (!chosenRoles.length) messages.show('error', t('users.roles_required'));
    if (problems.length || !chosenRoles.length) {
      problems.forEach(([f, m]) => f.setError(m));
      problems[0]?.[0].control.focus();
      return;
    }
    const body: Record<string, unknown> = {
      roles: chosenRoles, locale: locale.control.value, time_zone: zone.control.value,
    };
    if (display.control.value.trim()) body.display_name = display.control.value.trim();
    if (user) {
      body.email = email.control.value.trim();
      body.disabled = Boolean(disabled?.checked);
    } else {
      body.username = username.control.value;
      body.password = password!.control.value;
      body.org_id = org.control.value;
      if (email.control.value.trim()) body.email = email.control.value.trim();
    }
    try {
      await busy(form, () => (user ? patch(`/api/v1/users/${user.id}`, body) : post('/api/v1/users', body)));
      invalidateUsers();
      d.close();
      ctx.refresh();
    } catch (error) {
      messages.show('error', describe(error));
    }
  });
  d.open();
}
