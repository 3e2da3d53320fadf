// One advisory: its text, references, CVEs and techniques; recipients acknowledge it here, and
// the centre sees which organisations have and have not.
import { h } from '../dom';
import { t, tEnum } from '../i18n';
import { get, post, describe } from '../api';
import { formatDateTime } from '../format';
import type { PageContext } from '../app';
import type { Advisory } from '../types';
import { pageHeader, section, dl, badge, tlpBadge, orgName, userName, userLabel, link, button, messageArea, prose, table } from '../ui/components';
import { orgMap, userMap } from '../session';
import { userNames } from '../user_names';

export async function render(ctx: PageContext): Promise<HTMLElement> {
  const id = ctx.params.id;
  const [advisory, orgs, users] = await Promise.all([get<Advisory>(`/api/v1/advisories/${encodeURIComponent(id)}`), orgMap(), userMap()]);
  const messages = messageArea();
  const ack = advisory.acknowledgement;
  // The acknowledgement sentence is text, so its name is looked up before it is written.
  if (ack?.user_id && !users.has(ack.user_id)) await userNames.resolve([ack.user_id]);
  let ackPart: HTMLElement | null = null;
  if (ack) {
    ackPart = ack.acknowledged
      ? h('p', { class: 'notice notice-success ack-state', role: 'status' }, t('advisories.acknowledged_on', { time: formatDateTime(ack.acknowledged_at), name: userName(users, ack.user_id) }))
      : h('div', { class: 'notice notice-warning ack-state' }, h('p', null, t('advisories.please_acknowledge')),
        button(t('advisories.acknowledge'), async (event) => {
          const target = event.currentTarget as HTMLButtonElement;
          target.disabled = true;
          try {
            await post(`/api/v1/advisories/${encodeURIComponent(advisory.id)}/acknowledgements`);
            ctx.refresh();
          } catch (error) {
            messages.show('error', describe(error));
            target.disabled = false;
          }
        }, { class: 'btn btn-primary' }));
  }
  const target = advisory.target.kind === 'organization' ? orgName(orgs, advisory.target.org_id)
    : advisory.target.kind === 'sector' ? `${tEnum('advisory.target', 'sector')}: ${tEnum('sector', advisory.target.sector)}`
      : tEnum('advisory.target', 'all');
  const centreView = advisory.acknowledgements !== undefined || advisory.pending !== undefined;
  return h('div', null,
    pageHeader(`${advisory.reference} ${advisory.title}`),
    h('p', { class: 'badges' }, badge(tEnum('advisory.severity', advisory.severity), `severity severity-${advisory.severity}`), ' ', tlpBadge(advisory.tlp)),
    messages.el,
    ackPart,
    section(t('advisories.body'), prose(advisory.body)),
    section(t('advisories.details'), dl([
      [t('advisories.target'), target],
      [t('common.created'), formatDateTime(advisory.created_at)],
      [t('advisories.references'), advisory.references.length ? h('ul', { class: 'plain' }, ...advisory.references.map((r) => h('li', null, h('a', { href: r, rel: 'noopener noreferrer', target: '_blank' }, r)))) : '—'],
      [t('advisories.cves'), advisory.cves.join(', ') || '—'],
      [t('advisories.ttps'), advisory.ttps.join(', ') || '—'],
    ])),
    centreView ? section(t('advisories.acknowledgements'),
      h('p', null, t('advisories.pending_count', { count: advisory.pending_count ?? (advisory.pending?.length ?? 0) })),
      table([
        { label: t('common.organization'), render: (a: { org_id: string; org_name?: string; acknowledged_at?: string | null; user_id?: string | null }) => a.org_name || orgName(orgs, a.org_id) },
        { label: t('advisories.acknowledged'), render: (a) => a.acknowledged_at ? formatDateTime(a.acknowledged_at) : badge(t('advisories.acknowledged_no'), 'status status-new') },
        { label: t('advisories.by'), render: (a) => userLabel(users, a.user_id ?? null) },
      ], [...(advisory.acknowledgements ?? []), ...(advisory.pending ?? []).map((p) => ({ ...p, acknowledged_at: null, user_id: null }))], { empty: t('common.empty') })) : null,
    h('p', null, link('/advisories', t('advisories.back'))));
}
