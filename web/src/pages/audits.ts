// Audits (監査) the user may read, newest first: for the centre's staff those whose team they
// are on, for an organisation's administrators their organisation's once the report is issued.
// Filters (status, title, organisation for the centre) stay in the address; the centre's
// administrators and auditors open a new audit from here.
import { h } from '../dom';
import { t, tEnum } from '../i18n';
import { get, type ListPage } from '../api';
import { formatDate, formatDateTime } from '../format';
import { currentQuery, setQuery } from '../router';
import type { PageContext } from '../app';
import type { AuditSummary } from '../types';
import { AUDITABLE_ORG_TYPES } from '../audit_flow';
import { orgMap } from '../session';
import { progressBar } from './audit_progress';
import {
  pageHeader, enumSelect, field, input, filterBar, pagedTable, link, statusBadge, tlpBadge, badge, orgSelect, type Column,
} from '../ui/components';

const FILTERS = ['status', 'q', 'auditee_org_id'] as const;

export async function render(ctx: PageContext): Promise<HTMLElement> {
  const { access } = ctx.session;
  const query = currentQuery();
  const filters: Record<string, string> = {};
  for (const key of FILTERS) {
    const value = query.get(key);
    if (value) filters[key] = value;
  }
  const [first, orgs] = await Promise.all([get<ListPage<AuditSummary>>('/api/v1/audits', { ...filters, limit: 50 }), orgMap()]);

  const status = field(t('common.status'), enumSelect('audit.status', filters.status ?? '', t('common.any')));
  const q = field(t('audits.search'), input('search', { value: filters.q ?? '', maxlength: 200 }));
  // Only the centre audits more than one organisation.
  const org = access.centre
    ? field(t('audits.auditee'), orgSelect([...orgs.values()].filter((o) => AUDITABLE_ORG_TYPES.includes(o.type)), filters.auditee_org_id ?? '', t('common.any')))
    : null;
  const apply = () => {
    setQuery({ status: status.control.value, q: q.control.value.trim(), auditee_org_id: org?.control.value });
    ctx.refresh();
  };

  const columns: Column<AuditSummary>[] = [
    { label: t('common.reference'), class: 'nowrap', render: (a) => link(`/audits/${a.id}`, a.reference) },
    { label: t('common.title'), class: 'wide', render: (a) => h('span', null, link(`/audits/${a.id}`, a.title, { class: 'audit-title' }), h('br'),
      h('span', { class: 'help' }, a.standard_title)) },
    { label: t('audits.auditee'), render: (a) => a.auditee_name },
    { label: t('common.status'), render: (a) => statusBadge('audit.status', a.status) },
    { label: 'TLP', render: (a) => tlpBadge(a.tlp) },
    { label: t('audits.progress'), render: (a) => h('span', null, progressBar(a.progress, true),
      a.progress.recommendations_overdue > 0 ? [' ', badge(t('audits.overdue_count', { count: a.progress.recommendations_overdue }), 'status status-overdue')] : null) },
    { label: t('audits.planned_end'), render: (a) => formatDate(a.planned_end) },
    ...(access.centre ? [{ label: t('audits.my_role'), render: (a: AuditSummary) => (a.my_role ? badge(tEnum('audit.role', a.my_role), `role role-${a.my_role}`) : '—') }] : []),
    { label: t('common.updated'), render: (a) => formatDateTime(a.updated_at) },
  ];
  return h('div', null,
    pageHeader(t('audits.title'),
      access.openAudit ? link('/audits/new', t('audits.new'), { class: 'btn btn-primary' }) : null),
    h('p', { class: 'help' }, access.centre ? t('audits.list_help') : t('audits.list_help_auditee')),
    filterBar(apply, status.el, q.el, org?.el),
    pagedTable(columns, first,
      (cursor) => get<ListPage<AuditSummary>>('/api/v1/audits', { ...filters, limit: 50, cursor }),
      { label: t('audits.title'), empty: access.centre ? t('audits.empty') : t('audits.empty_auditee') }));
}
