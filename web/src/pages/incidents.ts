// Incidents the user may read, newest first: filters (status, category, minimum priority, TLP,
// title search, assigned to me) in the address, paging, export, and "Report an incident" for
// those who may report.
import { h } from '../dom';
import { t } from '../i18n';
import { get, type ListPage } from '../api';
import { formatDateTime } from '../format';
import { currentQuery, setQuery } from '../router';
import type { PageContext } from '../app';
import type { IncidentSummary } from '../types';
import { pageHeader, enumSelect, field, input, select, filterBar, pagedTable, link, statusBadge, tlpBadge, priorityBadge, orgName, orgSelect, type Column } from '../ui/components';
import { tEnum } from '../i18n';
import { exportButton } from '../ui/export';
import { orgMap } from '../session';

const FILTERS = ['status', 'category', 'priority_min', 'tlp', 'q', 'assigned_to', 'owner_org_id'] as const;

export async function render(ctx: PageContext): Promise<HTMLElement> {
  const { access } = ctx.session;
  const query = currentQuery();
  const filters: Record<string, string> = {};
  for (const key of FILTERS) {
    const value = query.get(key);
    if (value) filters[key] = value;
  }
  const orgs = await orgMap();
  const first = await get<ListPage<IncidentSummary>>('/api/v1/incidents', { ...filters, limit: 50 });

  const q = field(t('incidents.search'), input('search', { value: filters.q ?? '', maxlength: 200 }));
  const status = field(t('common.status'), enumSelect('incident.status', filters.status ?? '', t('common.any')));
  const category = field(t('incidents.category'), enumSelect('incident.category', filters.category ?? '', t('common.any')));
  const priority = field(t('incidents.priority_min'), select([['', t('common.any')],
    ...[0, 1, 2, 3, 4, 5].map((n): [string, string] => [String(n), `${n} · ${tEnum('priority', ['baseline', 'low', 'medium', 'high', 'severe', 'emergency'][n])}`])], filters.priority_min ?? ''));
  const tlp = field('TLP', enumSelect('tlp', filters.tlp ?? '', t('common.any')));
  const org = access.centre ? field(t('common.organization'), orgSelect([...orgs.values()], filters.owner_org_id ?? '', t('common.any'))) : null;
  const mine = access.centre ? h('input', { type: 'checkbox', id: 'inc-mine', checked: filters.assigned_to === 'me' }) : null;

  const apply = () => {
    setQuery({
      q: q.control.value.trim(), status: status.control.value, category: category.control.value,
      priority_min: priority.control.value, tlp: tlp.control.value, owner_org_id: org?.control.value,
      assigned_to: mine?.checked ? 'me' : '',
    });
    ctx.refresh();
  };

  const columns: Column<IncidentSummary>[] = [
    { label: t('common.reference'), render: (i) => link(`/incidents/${i.id}`, i.reference) },
    { label: t('common.title'), render: (i) => link(`/incidents/${i.id}`, i.title, { class: 'incident-title' }) },
    { label: t('common.status'), render: (i) => statusBadge('incident.status', i.status) },
    { label: t('incidents.priority'), render: (i) => priorityBadge(i.score.priority) },
    { label: t('incidents.category'), render: (i) => tEnum('incident.category', i.category) },
    { label: 'TLP', render: (i) => tlpBadge(i.tlp) },
    { label: t('common.organization'), render: (i) => orgName(orgs, i.owner_org_id) },
    { label: t('incidents.detected_at'), render: (i) => formatDateTime(i.detected_at) },
  ];
  return h('div', null,
    pageHeader(t('incidents.title'),
      access.reportIncident ? link('/incidents/new', t('incidents.report_title'), { class: 'btn btn-primary' }) : null,
      access.export ? exportButton('incidents', () => filters) : null),
    filterBar(apply, q.el, status.el, category.el, priority.el, tlp.el, org?.el,
      mine ? h('div', { class: 'field field-check' }, mine, h('label', { for: 'inc-mine' }, t('incidents.assigned_to_me'))) : null),
    pagedTable(columns, first,
      (cursor) => get<ListPage<IncidentSummary>>('/api/v1/incidents', { ...filters, limit: 50, cursor }),
      { label: t('incidents.title'), empty: t('incidents.empty') }));
}
