// Recommendations (勧告, art. 27): those the centre issued, or those addressed to the user's
// ministry, with due dates and follow-up status.
import { h } from '../dom';
import { t } from '../i18n';
import { get, type ListPage } from '../api';
import { formatDate } from '../format';
import { currentQuery, setQuery } from '../router';
import type { PageContext } from '../app';
import type { Recommendation } from '../types';
import { pageHeader, field, enumSelect, filterBar, pagedTable, link, statusBadge, tlpBadge, orgName, badge, type Column } from '../ui/components';
import { orgMap } from '../session';

export async function render(ctx: PageContext): Promise<HTMLElement> {
  const { access } = ctx.session;
  const query = currentQuery();
  const filters: Record<string, string> = {};
  if (query.get('status')) filters.status = query.get('status')!;
  const [orgs, first] = await Promise.all([orgMap(), get<ListPage<Recommendation>>('/api/v1/recommendations', { ...filters, limit: 50 })]);
  const status = field(t('common.status'), enumSelect('recommendation.status', filters.status ?? '', t('common.any')));
  const apply = () => { setQuery({ status: status.control.value }); ctx.refresh(); };
  const columns: Column<Recommendation>[] = [
    { label: t('common.reference'), render: (r) => link(`/recommendations/${r.id}`, r.reference) },
    { label: t('common.title'), render: (r) => link(`/recommendations/${r.id}`, r.title) },
    { label: t('recommendations.target'), render: (r) => orgName(orgs, r.target_org_id) },
    { label: t('common.due'), render: (r) => h('span', null, formatDate(r.due_at), r.overdue ? [' ', badge(t('common.overdue'), 'status status-overdue')] : null) },
    { label: t('common.status'), render: (r) => statusBadge('recommendation.status', r.status) },
    { label: 'TLP', render: (r) => tlpBadge(r.tlp) },
  ];
  return h('div', null,
    pageHeader(t('recommendations.title'), access.issueRecommendation ? link('/recommendations/new', t('recommendations.new'), { class: 'btn btn-primary' }) : null),
    filterBar(apply, status.el),
    pagedTable(columns, first, (cursor) => get<ListPage<Recommendation>>('/api/v1/recommendations', { ...filters, limit: 50, cursor }),
      { label: t('recommendations.title'), empty: t('recommendations.empty') }));
}
