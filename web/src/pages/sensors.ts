// Sensors (administration): the tokens an organisation's log shippers send events with
// (POST /api/v1/ingest). Centre administrators manage every organisation's sensors; an
// organisation's administrator manages its own. A new token is shown once, in the dialog that
// made it, with the command that sends events with it; the server keeps only its hash.
import { h, replace } from '../dom';
import { t } from '../i18n';
import { get, post, del, describe } from '../api';
import { formatDateTime } from '../format';
import { currentQuery, setQuery } from '../router';
import type { PageContext } from '../app';
import { pageHeader, table, button, dialog, field, input, orgSelect, submit, formActions, busy, messageArea, filterBar, badge, notice, confirmAction, secretReveal } from '../ui/components';
import { orgMap } from '../session';
import { LOGSOURCE_PART, logsourceText } from '../logsource';

export interface Sensor { id: string; org_id: string; name: string; logsource: string; created_at: string; revoked_at: string | null }

export async function render(ctx: PageContext): Promise<HTMLElement> {
  const { access, me } = ctx.session;
  const orgs = await orgMap();
  const orgId = (access.manageAllUsers ? currentQuery().get('org_id') : null) || me.user.org_id;
  const { items } = await get<{ items: Sensor[] }>('/api/v1/sensors', { org_id: orgId });
  const orgFilter = access.manageAllUsers
    ? field(t('common.organization'), orgSelect([...orgs.values()].filter((o) => o.type !== 'partner_cert'), orgId))
    : null;
  const messages = messageArea();
  const rows = table([
    { label: t('sensors.name'), render: (s: Sensor) => s.name },
    { label: t('sensors.logsource'), render: (s) => h('code', null, s.logsource) },
    { label: t('common.created'), render: (s) => formatDateTime(s.created_at) },
    { label: t('common.status'), render: (s) => (s.revoked_at
      ? badge(t('sensors.revoked_on', { time: formatDateTime(s.revoked_at) }), 'status status-closed')
      : badge(t('sensors.active'), 'status status-ok')) },
    { label: t('common.actions'), render: (s) => (s.revoked_at ? '—' : button(t('sensors.revoke'), async () => {
      const confirmed = await confirmAction(t('sensors.revoke_title'), t('sensors.revoke_body', { name: s.name }), t('sensors.revoke'));
      if (!confirmed) return;
      try {
        await del(`/api/v1/sensors/${encodeURIComponent(s.id)}`);
        ctx.refresh();
      } catch (error) {
        messages.show('error', describe(error));
      }
    }, { class: 'btn btn-small btn-danger', 'aria-label': t('sensors.revoke_named', { name: s.name }) })) },
  ], items, { empty: t('sensors.empty'), label: t('sensors.title') });
  return h('div', null,
    pageHeader(t('sensors.title'), button(t('sensors.new'), () => sensorDialog(ctx, orgId), { class: 'btn btn-primary' })),
    h('p', { class: 'help' }, t('sensors.lead')),
    orgFilter ? filterBar(() => { setQuery({ org_id: orgFilter.control.value }); ctx.refresh(); }, orgFilter.el) : null,
    messages.el,
    rows);
}

function sensorDialog(ctx: PageContext, orgId: string): void {
  const messages = messageArea();
  const name = field(t('sensors.name'), input('text', { maxlength: 100, autocomplete: 'off' }), { required: true, help: t('sensors.name_help') });
  const product = field(t('sensors.product'), input('text', { maxlength: 64, placeholder: 'windows, linux…' }));
  const category = field(t('sensors.category'), input('text', { maxlength: 64, placeholder: 'process_creation, proxy…' }));
  const service = field(t('sensors.service'), input('text', { maxlength: 64, placeholder: 'sysmon, sshd…' }));
  const parts = [product, category, service];
  const form = h('form', { novalidate: true }, messages.el, name.el,
    h('fieldset', { class: 'group' }, h('legend', null, t('sensors.logsource')),
      h('p', { class: 'help' }, t('sensors.logsource_help')), product.el, category.el, service.el),
    formActions(submit(t('sensors.create'))));
  const body = h('div', null, form);
  const d = dialog(t('sensors.new'), body, { wide: true, onClose: () => ctx.refresh() });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    [name, ...parts].forEach((f) => f.setError(null));
    messages.clear();
    let first: HTMLElement | null = null;
    const problem = (f: typeof name, text: string) => { f.setError(text); first ??= f.control; };
    if (!name.control.value.trim()) problem(name, t('validation.required'));
    for (const part of parts) {
      if (!LOGSOURCE_PART.test(part.control.value.trim())) problem(part, t('sensors.part_invalid'));
    }
    const logsource = logsourceText(product.control.value, category.control.value, service.control.value);
    if (!logsource && !first) problem(product, t('sensors.logsource_required'));
    if (first) { (first as HTMLElement).focus(); return; }
    try {
      const created = await busy(form, () => post<Sensor & { token: string }>('/api/v1/sensors', {
        org_id: orgId, name: name.control.value.trim(), logsource,
      }));
      const ingest = `${location.origin}/api/v1/ingest`;
      replace(body,
        notice('success', t('sensors.created', { name: created.name })),
        secretReveal(t('sensors.token'), created.token, t('sensors.token_once')),
        h('p', null, t('sensors.send_with')),
        h('pre', { class: 'command' }, h('code', null,
          `curl -H 'Authorization: Bearer ${created.token}' \\\n     -H 'Content-Type: application/x-ndjson' \\\n     --data-binary @events.ndjson ${ingest}`)),
        formActions(button(t('common.close'), () => d.close(), { class: 'btn btn-primary' })));
    } catch (error) {
      messages.show('error', describe(error));
    }
  });
  d.open();
}
