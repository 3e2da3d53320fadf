// Audits (監査) the user may read, newest first: for the centre's staff those whose team they
// are on, for an organisation's administrators their organisation's once the report is issued.
// Filters (status, title, organisation for the centre) stay in the address; the centre's
// administrators and auditors open a new audit from here. A second tab lists the
// recommendations (改善勧告) of the issued and closed audits, soonest due first: for the team
// what the audited organisations owe, for an organisation's administrators what it owes.
import { h, replace } from '../dom';
import { t, tEnum } from '../i18n';
import { get, describe, type ListPage } from '../api';
import { formatDate, formatDateTime } from '../format';
import { currentQuery, setQuery } from '../router';
import type { PageContext } from '../app';
import type { AuditRecommendationItem, AuditSummary, Organization } from '../types';
import { AUDITABLE_ORG_TYPES, OWED_DEFAULT_STATUS, owedQuery } from '../audit_flow';
import { values } from '../enums';
import { orgMap } from '../session';
import { tabs } from '../ui/tabs';
import { progressBar } from './audit_progress';
import {
  pageHeader, enumSelect, field, input, select, filterBar, pagedTable, table, link, statusBadge, tlpBadge, badge, orgSelect,
  loading, notice, type Column,
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
  const auditsTab = () => h('div', null,
    h('p', { class: 'help' }, access.centre ? t('audits.list_help') : t('audits.list_help_auditee')),
    filterBar(apply, status.el, q.el, org?.el),
    pagedTable(columns, first,
      (cursor) => get<ListPage<AuditSummary>>('/api/v1/audits', { ...filters, limit: 50, cursor }),
      { label: t('audits.title'), empty: access.centre ? t('audits.empty') : t('audits.empty_auditee') }));
  return h('div', null,
    pageHeader(t('audits.title'),
      access.openAudit ? link('/audits/new', t('audits.new'), { class: 'btn btn-primary' }) : null),
    tabs([
      { name: 'audits', label: t('audits.tab_audits'), render: auditsTab },
      { name: 'recommendations', label: t('audits.tab_recommendations'), render: () => owedTab(ctx, orgs) },
    ], 'audits', t('audits.list_tabs_label')));
}

// The recommendations across audits, with their own filters (rec_status, rec_overdue, rec_org
// in the address); loaded when the tab is first shown.
function owedTab(ctx: PageContext, orgs: Map<string, Organization>): HTMLElement {
  const { access } = ctx.session;
  const query = currentQuery();
  const chosen = { status: query.get('rec_status'), overdue: query.get('rec_overdue'), org: access.centre ? query.get('rec_org') : null };
  const status = field(t('common.status'), select([
    [OWED_DEFAULT_STATUS, t('audits.owed_awaited')],
    ['any', t('common.any')],
    ...values('audit.recommendation_status').map((v): [string, string] => [v, tEnum('audit.recommendation_status', v)]),
  ], chosen.status || OWED_DEFAULT_STATUS));
  const overdue = h('input', { type: 'checkbox', id: 'owed-overdue', checked: chosen.overdue === 'true' });
  const org = access.centre
    ? field(t('audits.auditee'), orgSelect([...orgs.values()].filter((o) => AUDITABLE_ORG_TYPES.includes(o.type)), chosen.org ?? '', t('common.any')))
    : null;
  const apply = () => {
    const kept: Record<string, string> = {};
    for (const [key, value] of currentQuery()) kept[key] = value;
    setQuery({
      ...kept, tab: 'recommendations',
      rec_status: status.control.value === OWED_DEFAULT_STATUS ? '' : status.control.value,
      rec_overdue: overdue.checked ? 'true' : '',
      rec_org: org?.control.value,
    });
    ctx.refresh();
  };

  const columns: Column<AuditRecommendationItem>[] = [
    { label: t('common.due'), class: 'nowrap', render: (r) => h('span', null,
      h('time', { datetime: r.due_at, class: r.overdue ? 'overdue' : null }, formatDate(r.due_at)),
      r.overdue ? [' ', badge(t('common.overdue'), 'status status-overdue')] : null) },
    { label: t('audits.owed_recommendation'), class: 'wide', render: (r) => h('span', null,
      link(`/audits/${r.audit.id}?tab=findings`, r.reference, { 'aria-label': t('audits.owed_open', { reference: r.reference, audit: r.audit.reference }) }),
      ' ', h('span', { class: 'owed-text' }, clip(r.text, 200))) },
    { label: t('audits.owed_finding'), render: (r) => h('span', null, `${r.finding.reference} ${r.finding.title}`, ' ',
      badge(tEnum('audit.risk', r.finding.risk), `risk risk-${r.finding.risk}`)) },
    { label: t('audits.owed_audit'), render: (r) => h('span', null, link(`/audits/${r.audit.id}?tab=findings`, `${r.audit.reference} ${r.audit.title}`),
      access.centre ? [h('br'), h('span', { class: 'help' }, r.audit.auditee_name)] : null) },
    { label: t('common.status'), render: (r) => h('span', { class: 'recommendation-status' }, statusBadge('audit.recommendation_status', r.status)) },
  ];
  const limit = 200;
  const body = h('div', null, loading());
  void (async () => {
    try {
      const page = await get<ListPage<AuditRecommendationItem>>('/api/v1/audits/recommendations', owedQuery(chosen, limit));
      replace(body,
        table(columns, page.items, { label: t('audits.tab_recommendations'), empty: access.centre ? t('audits.owed_empty') : t('audits.owed_empty_auditee') }),
        page.items.length >= limit ? h('p', { class: 'help' }, t('audits.owed_limit', { count: limit })) : null);
    } catch (error) {
      replace(body, notice('error', describe(error)));
    }
  })();
  return h('div', { class: 'audit-owed' },
    h('p', { class: 'help' }, access.centre ? t('audits.owed_help') : t('audits.owed_help_auditee')),
    filterBar(apply, status.el, h('div', { class: 'field field-check' }, overdue, h('label', { for: 'owed-overdue' }, t('audits.only_overdue'))), org?.el),
    body);
}

function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length > max ? `${chars.slice(0, max).join('')}…` : text;
}
