// Advisories (注意喚起): those addressed to the user's organisation, or, for the centre, those it
// issued with how many recipients have not acknowledged yet.
import { h } from '../dom';
import { t, tEnum } from '../i18n';
import { get, type ListPage } from '../api';
import { formatDateTime } from '../format';
import { currentQuery, setQuery } from '../router';
import type { PageContext } from '../app';
import type { Advisory } from '../types';
import { pageHeader, field, enumSelect, filterBar, pagedTable, link, badge, tlpBadge, orgName, type Column } from '../ui/components';
import { orgMap } from '../session';

export async function render(ctx: PageContext): Promise<HTMLElement> {
  const { access } = ctx.session;
  const query = currentQuery();
  const filters: Record<string, string> = {};
  if (query.get('severity')) filters.severity = query.get('severity')!;
  if (query.get('unacknowledged') === 'true') filters.unacknowledged = 'true';
  const [orgs, first] = await Promise.all([orgMap(), get<ListPage<Advisory>>('/api/v1/advisories', { ...filters, limit: 50 })]);

  const severity = field(t('advisories.severity'), enumSelect('advisory.severity', filters.severity ?? '', t('common.any')));
  const unack = h('input', { type: 'checkbox', id: 'adv-unack', checked: filters.unacknowledged === 'true' });
  const apply = () => {
    setQuery({ severity: severity.control.value, unacknowledged: unack.checked ? 'true' : '' });
    ctx.refresh();
  };
  const target = (a: Advisory) => a.target.kind === 'organization' ? orgName(orgs, a.target.org_id)
    : a.target.kind === 'sector' ? `${tEnum('advisory.target', 'sector')}: ${tEnum('sector', a.target.sector)}`
      : tEnum('advisory.target', 'all');
  const columns: Column<Advisory>[] = [
    { label: t('common.reference'), render: (a) => link(`/advisories/${a.id}`, a.reference) },
    { label: t('common.title'), render: (a) => link(`/advisories/${a.id}`, a.title, { class: 'advisory-title' }) },
    { label: t('advisories.severity'), render: (a) => badge(tEnum('advisory.severity', a.severity), `severity severity-${a.severity}`) },
    { label: 'TLP', render: (a) => tlpBadge(a.tlp) },
    { label: t('advisories.target'), render: target },
    { label: t('common.created'), render: (a) => formatDateTime(a.created_at) },
    access.centre
      ? { label: t('advisories.pending'), class: 'num', render: (a) => String(a.pending_count ?? '—') }
      : { label: t('advisories.acknowledged'), render: (a) => a.acknowledgement?.acknowledged
        ? badge(t('advisories.acknowledged_yes'), 'status status-ok') : badge(t('advisories.acknowledged_no'), 'status status-new') },
  ];
  return h('div', null,
    pageHeader(t('advisories.title'), access.issueAdvisory ? link('/advisories/new', t('advisories.new'), { class: 'btn btn-primary' }) : null),
    filterBar(apply, severity.el, h('div', { class: 'field field-check' }, unack, h('label', { for: 'adv-unack' }, t('advisories.only_unacknowledged')))),
    pagedTable(columns, first, (cursor) => get<ListPage<Advisory>>('/api/v1/advisories', { ...filters, limit: 50, cursor }),
      { label: t('advisories.title'), empty: t('advisories.empty') }));
}
