// The alert queue: filters (status, minimum level, kind, organisation, technique, assigned to
// me) kept in the address, newest event first, paged with the API's cursor; an export of what
// is filtered. Each row opens the alert, where it is triaged.
import { h } from '../dom';
import { t, tEnum } from '../i18n';
import { get, type ListPage } from '../api';
import { formatDateTime, formatNumber } from '../format';
import { currentQuery, setQuery } from '../router';
import type { PageContext } from '../app';
import type { Alert } from '../types';
import { pageHeader, enumSelect, field, input, orgSelect, filterBar, pagedTable, link, levelBadge, statusBadge, orgName, userLabel, badge, type Column } from '../ui/components';
import { exportButton } from '../ui/export';
import { orgMap, userMap } from '../session';

const FILTERS = ['status', 'level', 'kind', 'org_id', 'technique', 'rule_id', 'assignee_id'] as const;

export async function render(ctx: PageContext): Promise<HTMLElement> {
  const { access, me } = ctx.session;
  const query = currentQuery();
  const filters: Record<string, string> = {};
  for (const key of FILTERS) {
    const value = query.get(key);
    if (value) filters[key] = value;
  }
  const [orgs, users] = await Promise.all([orgMap(), userMap()]);
  const first = await get<ListPage<Alert>>('/api/v1/alerts', { ...filters, limit: 50 });

  const status = field(t('common.status'), enumSelect('alert.status', filters.status ?? '', t('common.any')));
  const level = field(t('alerts.level_min'), enumSelect('level', filters.level ?? '', t('common.any')), { help: t('alerts.level_help') });
  const kind = field(t('alerts.kind'), enumSelect('alert.kind', filters.kind ?? '', t('common.any')));
  const org = access.centre ? field(t('common.organization'), orgSelect([...orgs.values()], filters.org_id ?? '', t('common.any'))) : null;
  const technique = field(t('alerts.technique'), input('text', { value: filters.technique ?? '', placeholder: 'T1110', pattern: '[Tt][0-9]{4}(\\.[0-9]{3})?', size: 10 }), { help: t('alerts.technique_help') });
  const rule = field(t('alerts.rule_id'), input('text', { value: filters.rule_id ?? '', maxlength: 256, size: 16 }));
  const mine = h('input', { type: 'checkbox', id: 'alerts-mine', checked: filters.assignee_id === me.user.id });
  const mineField = h('div', { class: 'field field-check' }, mine, h('label', { for: 'alerts-mine' }, t('alerts.assigned_to_me')));

  const apply = () => {
    setQuery({
      status: status.control.value, level: level.control.value, kind: kind.control.value,
      org_id: org?.control.value, technique: technique.control.value.trim(), rule_id: rule.control.value.trim(),
      assignee_id: mine.checked ? me.user.id : '',
    });
    ctx.refresh();
  };

  const columns: Column<Alert>[] = [
    { label: t('alerts.event_time'), render: (a) => link(`/alerts/${a.id}`, formatDateTime(a.event_time)) },
    { label: t('alerts.level'), render: (a) => levelBadge(a.rule.level) },
    { label: t('alerts.rule'), render: (a) => h('span', null, link(`/alerts/${a.id}`, a.rule.title || a.rule.id),
      a.occurrences > 1 ? [' ', badge(t('alerts.times', { count: formatNumber(a.occurrences) }), 'count')] : null) },
    { label: t('common.organization'), render: (a) => orgName(orgs, a.org_id) },
    { label: t('alerts.techniques'), render: (a) => a.techniques.join(', ') || '—' },
    { label: t('common.status'), render: (a) => statusBadge('alert.status', a.status) },
    { label: t('alerts.assignee'), render: (a) => userLabel(users, a.assignee_id) },
  ];
  const list = pagedTable(columns, first,
    (cursor) => get<ListPage<Alert>>('/api/v1/alerts', { ...filters, limit: 50, cursor }),
    { label: t('alerts.title'), empty: t('alerts.empty') });

  return h('div', null,
    pageHeader(t('alerts.title'), access.export ? exportButton('alerts', () => filters) : null),
    filterBar(apply, status.el, level.el, kind.el, org?.el, technique.el, rule.el, mineField),
    h('p', { class: 'help' }, t('alerts.kinds_help', { kinds: ['rule', 'indicator', 'correlation', 'campaign'].map((k) => tEnum('alert.kind', k)).join(', ') })),
    list);
}
