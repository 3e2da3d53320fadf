// Investigations (調査案件) the user is a member of, newest first: filters (status, title
// search) in the address, paging, and "New case" for those who may open one. A case the user is
// not a member of is never listed, whoever they are.
import { h } from '../dom';
import { t, tEnum } from '../i18n';
import { get, type ListPage } from '../api';
import { formatDateTime } from '../format';
import { currentQuery, setQuery } from '../router';
import type { PageContext } from '../app';
import type { CaseSummary } from '../types';
import { pageHeader, enumSelect, field, input, filterBar, pagedTable, link, statusBadge, tlpBadge, badge, type Column } from '../ui/components';

const FILTERS = ['status', 'q'] as const;

export async function render(ctx: PageContext): Promise<HTMLElement> {
  const { access } = ctx.session;
  const query = currentQuery();
  const filters: Record<string, string> = {};
  for (const key of FILTERS) {
    const value = query.get(key);
    if (value) filters[key] = value;
  }
  const first = await get<ListPage<CaseSummary>>('/api/v1/cases', { ...filters, limit: 50 });

  const q = field(t('cases.search'), input('search', { value: filters.q ?? '', maxlength: 200 }));
  const status = field(t('common.status'), enumSelect('case.status', filters.status ?? '', t('common.any')));
  const apply = () => {
    setQuery({ q: q.control.value.trim(), status: status.control.value });
    ctx.refresh();
  };

  const columns: Column<CaseSummary>[] = [
    { label: t('common.reference'), render: (c) => link(`/cases/${c.id}`, c.reference) },
    { label: t('common.title'), render: (c) => link(`/cases/${c.id}`, c.title, { class: 'case-title' }) },
    { label: t('common.status'), render: (c) => statusBadge('case.status', c.status) },
    { label: 'TLP', render: (c) => tlpBadge(c.tlp) },
    { label: t('cases.my_role'), render: (c) => badge(tEnum('case.role', c.my_role), `role role-${c.my_role}`) },
    { label: t('common.created'), render: (c) => formatDateTime(c.created_at) },
    { label: t('common.updated'), render: (c) => formatDateTime(c.updated_at) },
  ];
  return h('div', null,
    pageHeader(t('cases.title'),
      access.openCase ? link('/cases/new', t('cases.new'), { class: 'btn btn-primary' }) : null),
    h('p', { class: 'help' }, t('cases.list_help')),
    filterBar(apply, q.el, status.el),
    pagedTable(columns, first,
      (cursor) => get<ListPage<CaseSummary>>('/api/v1/cases', { ...filters, limit: 50, cursor }),
      { label: t('cases.title'), empty: t('cases.empty') }));
}
