// Requests for materials (資料提供の求め): those the user's organisation made or must answer,
// with status, due date and overdue marking; centre staff can list those assigned to them.
import { h } from '../dom';
import { t, tEnum } from '../i18n';
import { get, type ListPage } from '../api';
import { formatDate } from '../format';
import { currentQuery, setQuery } from '../router';
import type { PageContext } from '../app';
import type { MaterialsRequest } from '../types';
import { pageHeader, field, enumSelect, filterBar, pagedTable, link, statusBadge, tlpBadge, orgName, badge, type Column } from '../ui/components';
import { orgMap } from '../session';

export async function render(ctx: PageContext): Promise<HTMLElement> {
  const { access } = ctx.session;
  const query = currentQuery();
  const filters: Record<string, string> = {};
  for (const key of ['status', 'direction', 'overdue', 'assigned_to']) if (query.get(key)) filters[key] = query.get(key)!;
  const [orgs, first] = await Promise.all([orgMap(), get<ListPage<MaterialsRequest>>('/api/v1/requests', { ...filters, limit: 50 })]);
  const status = field(t('common.status'), enumSelect('request.status', filters.status ?? '', t('common.any')));
  const direction = field(t('requests.direction'), enumSelect('request.direction', filters.direction ?? '', t('common.any')));
  const overdue = h('input', { type: 'checkbox', id: 'req-overdue', checked: filters.overdue === 'true' });
  const mine = access.centre ? h('input', { type: 'checkbox', id: 'req-mine', checked: filters.assigned_to === 'me' }) : null;
  const apply = () => {
    setQuery({
      status: status.control.value, direction: direction.control.value, overdue: overdue.checked ? 'true' : '',
      assigned_to: mine?.checked ? 'me' : '',
    });
    ctx.refresh();
  };
  const columns: Column<MaterialsRequest>[] = [
    { label: t('common.reference'), render: (r) => link(`/requests/${r.id}`, r.reference) },
    { label: t('common.title'), render: (r) => link(`/requests/${r.id}`, r.title) },
    { label: t('requests.legal_basis'), render: (r) => tEnum('legal_basis', r.legal_basis) },
    { label: t('requests.requester'), render: (r) => orgName(orgs, r.requester_org_id) },
    { label: t('requests.target'), render: (r) => orgName(orgs, r.target_org_id) },
    { label: t('common.due'), render: (r) => h('span', null, formatDate(r.due_at), r.overdue ? [' ', badge(t('common.overdue'), 'status status-overdue')] : null) },
    { label: t('common.status'), render: (r) => statusBadge('request.status', r.status) },
    { label: 'TLP', render: (r) => tlpBadge(r.tlp) },
  ];
  const canCreate = access.createRequest || access.createInboundRequest;
  return h('div', null,
    pageHeader(t('requests.title'), canCreate ? link('/requests/new', t(access.createRequest ? 'requests.new' : 'requests.new_inbound'), { class: 'btn btn-primary' }) : null),
    filterBar(apply, status.el, direction.el, h('div', { class: 'field field-check' }, overdue, h('label', { for: 'req-overdue' }, t('requests.only_overdue'))),
      mine ? h('div', { class: 'field field-check' }, mine, h('label', { for: 'req-mine' }, t('requests.assigned_to_me'))) : null),
    pagedTable(columns, first, (cursor) => get<ListPage<MaterialsRequest>>('/api/v1/requests', { ...filters, limit: 50, cursor }),
      { label: t('requests.title'), empty: t('requests.empty') }));
}
