// Organisations (administration): every organisation for the centre's staff; centre
// administrators create and change them. A critical-infrastructure operator needs its sector.
import { h } from '../dom';
import { t, tEnum } from '../i18n';
import { getAll, post, patch, describe } from '../api';
import { formatDate } from '../format';
import type { PageContext } from '../app';
import type { Organization } from '../types';
import { pageHeader, table, button, dialog, field, input, enumSelect, submit, formActions, busy, messageArea } from '../ui/components';
import { invalidateOrgs } from '../session';

export async function render(ctx: PageContext): Promise<HTMLElement> {
  const { access } = ctx.session;
  const orgs = await getAll<Organization>('/api/v1/organizations');
  const rows = table([
    { label: t('orgs.name'), render: (o: Organization) => o.name },
    { label: t('orgs.name_ja'), render: (o) => o.name_ja ?? '—' },
    { label: t('orgs.type'), render: (o) => tEnum('org.type', o.type) },
    { label: t('orgs.sector'), render: (o) => tEnum('sector', o.sector) },
    { label: t('orgs.contact_email'), render: (o) => o.contact_email ?? '—' },
    { label: t('common.created'), render: (o) => formatDate(o.created_at) },
    ...(access.manageOrganizations ? [{ label: t('common.actions'), render: (o: Organization) => button(t('common.edit'), () => orgDialog(ctx, o), { class: 'btn btn-small', 'aria-label': t('orgs.edit_named', { name: o.name }) }) }] : []),
  ], orgs, { label: t('orgs.title') });
  return h('div', null,
    pageHeader(t('orgs.title'), access.manageOrganizations ? button(t('orgs.new'), () => orgDialog(ctx, null), { class: 'btn btn-primary' }) : null),
    rows);
}

function orgDialog(ctx: PageContext, org: Organization | null): void {
  const messages = messageArea();
  const name = field(t('orgs.name'), input('text', { value: org?.name ?? '', maxlength: 200 }), { required: true });
  const nameJa = field(t('orgs.name_ja'), input('text', { value: org?.name_ja ?? '', maxlength: 200, lang: 'ja' }));
  const type = field(t('orgs.type'), enumSelect('org.type', org?.type ?? 'ministry'), { required: true });
  if (org) (type.control as HTMLSelectElement).disabled = true;
  const sector = field(t('orgs.sector'), enumSelect('sector', org?.sector ?? '', t('common.choose')), { help: t('orgs.sector_help') });
  const email = field(t('orgs.contact_email'), input('email', { value: org?.contact_email ?? '' }));
  const sync = () => { sector.el.hidden = type.control.value !== 'critical_infrastructure'; };
  type.control.addEventListener('change', sync);
  sync();
  const form = h('form', { novalidate: true }, messages.el, name.el, nameJa.el, type.el, sector.el, email.el, formActions(submit(t('common.save'))));
  const d = dialog(org ? t('orgs.edit') : t('orgs.new'), form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    name.setError(null);
    sector.setError(null);
    if (!name.control.value.trim()) { name.setError(t('validation.required')); name.control.focus(); return; }
    const ci = type.control.value === 'critical_infrastructure';
    if (ci && !sector.control.value) { sector.setError(t('validation.required')); sector.control.focus(); return; }
    const body: Record<string, unknown> = { name: name.control.value.trim() };
    if (org) {
      body.name_ja = nameJa.control.value.trim();
      body.contact_email = email.control.value.trim();
      if (ci) body.sector = sector.control.value;
    } else {
      body.type = type.control.value;
      if (nameJa.control.value.trim()) body.name_ja = nameJa.control.value.trim();
      if (email.control.value.trim()) body.contact_email = email.control.value.trim();
      if (ci) body.sector = sector.control.value;
    }
    try {
      await busy(form, () => (org ? patch(`/api/v1/organizations/${org.id}`, body) : post('/api/v1/organizations', body)));
      invalidateOrgs();
      d.close();
      ctx.refresh();
    } catch (error) {
      messages.show('error', describe(error));
    }
  });
  d.open();
}
