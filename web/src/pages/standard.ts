// One standard: where it came from (title, version, OSCAL metadata, the file and its SHA-256)
// and its controls in the catalog's order, grouped as the catalog groups them, enhancements
// indented under the control they enhance, each with its statement as the catalog words it
// (parameters written "[Assignment: …]", items on lines of their own).
import { h } from '../dom';
import { t } from '../i18n';
import { get } from '../api';
import { formatDate, formatDateTime, formatNumber } from '../format';
import type { PageContext } from '../app';
import type { StandardControl, StandardWithControls } from '../types';
import { controlName, depthClass, groupControls } from '../audit_flow';
import { userMap } from '../session';
import { pageHeader, section, dl, link, userLabel, badge } from '../ui/components';

export async function render(ctx: PageContext): Promise<HTMLElement> {
  const [standard, users] = await Promise.all([
    get<StandardWithControls>(`/api/v1/standards/${encodeURIComponent(ctx.params.id)}`), userMap(),
  ]);
  const { access } = ctx.session;
  const groups = groupControls(standard.control_list);
  // An enhancement names its control as the standard prints it ("AC-2", not "ac-2").
  const names = new Map(standard.control_list.map((c) => [c.control_id, controlName(c)]));
  const controlItem = (control: StandardControl) => item(control, names);
  return h('div', { class: 'standard' },
    pageHeader(standard.title,
      access.openAudit ? link(`/audits/new?standard_id=${encodeURIComponent(standard.id)}`, t('standards.open_audit'), { class: 'btn btn-primary' }) : null),
    h('p', { class: 'badges' },
      standard.version ? badge(t('standards.version_is', { version: standard.version }), 'status') : null,
      badge(t('standards.control_count', { count: formatNumber(standard.controls) }), 'count')),
    section(t('standards.about'), dl([
      [t('standards.version'), standard.version || '—'],
      [t('standards.published'), standard.published ? formatDate(standard.published) : '—'],
      [t('standards.oscal_version'), standard.oscal_version || '—'],
      [t('standards.oscal_uuid'), standard.oscal_uuid ? h('code', null, standard.oscal_uuid) : '—'],
      [t('standards.source'), h('code', { class: 'wrap-anywhere' }, standard.source)],
      ['SHA-256', h('code', { class: 'hash' }, standard.sha256)],
      [t('standards.imported'), h('span', null, formatDateTime(standard.imported_at), ' — ', userLabel(users, standard.imported_by))],
    ])),
    section(t('standards.controls'),
      groups.length > 1 || groups[0]?.group ? h('nav', { class: 'control-groups', 'aria-label': t('standards.groups') },
        h('ul', { class: 'plain' }, ...groups.map((g, i) => h('li', null,
          h('a', { href: `#group-${i + 1}` }, g.group || t('standards.no_group')),
          h('span', { class: 'help' }, ` (${formatNumber(g.controls.length)})`))))) : null,
      ...groups.map((g, i) => h('div', { class: 'control-group', id: `group-${i + 1}` },
        h('h3', null, g.group || t('standards.no_group')),
        h('ol', { class: 'controls plain' }, ...g.controls.map(controlItem))))),
    h('p', null, link('/standards', t('standards.back'))));
}

function item(control: StandardControl, names: Map<string, string>): HTMLElement {
  return h('li', { class: `control ${depthClass(control.depth)}`, 'data-control-id': control.control_id },
    h('p', { class: 'control-head' },
      h('code', { class: 'control-id' }, controlName(control)), ' ',
      h('strong', null, control.title || control.control_id),
      control.depth > 0 ? h('span', { class: 'help' }, ` — ${t('standards.enhancement_of', { parent: names.get(control.parent_id ?? '') ?? control.parent_id ?? '—' })}`) : null),
    control.statement ? h('div', { class: 'prose statement' }, control.statement) : h('p', { class: 'empty' }, t('standards.no_statement')));
}
