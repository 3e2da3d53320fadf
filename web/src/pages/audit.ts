// The audit log (centre administrators): the hash-chained record of every write, login and
// confidential read, oldest first, filtered by actor or action.
import { h } from '../dom';
import { t } from '../i18n';
import { get, type ListPage } from '../api';
import { formatDateTime } from '../format';
import { currentQuery, setQuery } from '../router';
import type { PageContext } from '../app';
import { pageHeader, field, input, filterBar, pagedTable, tlpBadge, userLabel, orgName } from '../ui/components';
import { orgMap, userMap } from '../session';

interface Entry {
  seq: number; at: string; actor_id: string; actor_org_id: string; action: string; object_type: string;
  object_id: string; tlp: string; remote_address: string; outcome: string; detail: unknown; hash: string;
}

export async function render(ctx: PageContext): Promise<HTMLElement> {
  const query = currentQuery();
  const filters: Record<string, string> = {};
  for (const key of ['actor', 'action']) if (query.get(key)) filters[key] = query.get(key)!;
  const [first, users, orgs] = await Promise.all([get<ListPage<Entry>>('/api/v1/audit-log', { ...filters, limit: 100 }), userMap(), orgMap()]);
  const actor = field(t('audit.actor'), input('text', { value: filters.actor ?? '', maxlength: 64 }), { help: t('audit.actor_help') });
  const action = field(t('audit.action'), input('text', { value: filters.action ?? '', maxlength: 64, placeholder: 'incident.create' }));
  const apply = () => { setQuery({ actor: actor.control.value.trim(), action: action.control.value.trim() }); ctx.refresh(); };
  return h('div', null,
    pageHeader(t('audit.title')),
    h('p', { class: 'help' }, t('audit.lead')),
    filterBar(apply, actor.el, action.el),
    pagedTable([
      { label: '#', class: 'num', render: (e: Entry) => String(e.seq) },
      { label: t('audit.at'), render: (e) => formatDateTime(e.at) },
      { label: t('audit.actor'), render: (e) => [userLabel(users, e.actor_id), ` (${orgName(orgs, e.actor_org_id)})`] },
      { label: t('audit.action'), render: (e) => h('code', null, e.action) },
      { label: t('audit.object'), render: (e) => (e.object_id ? `${e.object_type} ${e.object_id.slice(0, 8)}…` : e.object_type) },
      { label: 'TLP', render: (e) => tlpBadge(e.tlp) },
      { label: t('audit.outcome'), render: (e) => e.outcome },
      { label: t('audit.address'), render: (e) => e.remote_address || '—' },
    ], first, (cursor) => get<ListPage<Entry>>('/api/v1/audit-log', { ...filters, limit: 100, cursor }), { empty: t('common.empty'), label: t('audit.title') }));
}
