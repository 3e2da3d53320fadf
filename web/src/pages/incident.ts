// One incident: the report, its NCISS-style score breakdown, and — for the centre — the triage
// view: status changes, assignees, linked alerts and incidents; plus the timeline, comments and
// attachments for everyone who may read it. Each part offers its actions only to those the
// policy allows (access.ts), and each action re-reads the incident afterwards.
import { h, replace } from '../dom';
import { t, tEnum } from '../i18n';
import { api, get, post, describe, getAll, type ListPage } from '../api';
import { formatDateTime, formatBytes, formatNumber } from '../format';
import type { PageContext } from '../app';
import type { Alert, Comment, HistoryEntry, Incident, IncidentSummary, User } from '../types';
import { canEditIncident, canTriageIncident } from '../access';
import { nextStatuses, noteRequired } from '../incident_flow';
import {
  pageHeader, section, dl, statusBadge, tlpBadge, priorityBadge, orgName, userLabel, link, button,
  dialog, field, select, enumSelect, textarea, input, submit, formActions, messageArea, busy, table,
  prose, levelBadge, loading, notice, actionRunner,
} from '../ui/components';
import { orgMap, userMap } from '../session';
import { assigneesPanel } from '../ui/assignees';

export async function render(ctx: PageContext): Promise<HTMLElement> {
  const id = ctx.params.id;
  const base = `/api/v1/incidents/${encodeURIComponent(id)}`;
  const [incident, orgs, users] = await Promise.all([get<Incident>(base), orgMap(), userMap()]);
  const { access, me } = ctx.session;
  const messages = messageArea();
  const triage = canTriageIncident(access, me, incident.assignees);
  const edit = canEditIncident(access, me, incident.owner_org_id, incident.assignees);

  const run = actionRunner(ctx.refresh, messages, describe);

  // ---- triage: status ----
  let statusPanel: HTMLElement | null = null;
  if (triage) {
    const options = nextStatuses(incident.status, me.roles.includes('centre_admin'));
    if (options.length) {
      const to = field(t('incidents.new_status'), select(options.map((s) => [s, tEnum('incident.status', s)]), options[0]), { required: true });
      const note = field(t('incidents.note'), textarea({ rows: 2 }), { help: t('incidents.note_help') });
      const form = h('form', { class: 'inline-form', novalidate: true }, to.el, note.el, formActions(submit(t('incidents.change_status'))));
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        note.setError(null);
        if (noteRequired(incident.status, to.control.value) && !note.control.value.trim()) {
          note.setError(t('incidents.note_required'));
          note.control.focus();
          return;
        }
        void run(form, () => post(`${base}/transitions`, { to: to.control.value, ...(note.control.value.trim() ? { note: note.control.value.trim() } : {}) }));
      });
      statusPanel = section(t('incidents.triage'), form);
    }
  }

  // ---- assignees ----
  const assignees = assigneesPanel({
    base, assignees: incident.assignees, users, me, canAssign: access.assignIncidents, messages: messages.el,
    run: (form, work) => void run(form, work),
    words: {
      none: t('incidents.no_assignees'), assignTo: t('incidents.assign_to'), assign: t('incidents.assign'),
      unassign: t('incidents.unassign'), unassignUser: (name) => t('incidents.unassign_user', { name }),
    },
  });

  // ---- score ----
  const score = section(t('incidents.score'),
    h('p', { class: 'score-line' }, t('incidents.score_value', { value: incident.score.value.toFixed(1) }), ' ', priorityBadge(incident.score.priority),
      incident.score.priority.significant ? h('span', { class: 'badge significant' }, t('incidents.significant')) : null),
    table([
      { label: t('incidents.factor'), render: (f) => tEnum('factor', f.factor) },
      { label: t('incidents.factor_value'), render: (f) => (f.value === 'not provided' ? t('common.not_given') : tEnum(f.factor, f.factor === 'location' ? incident.location_name : f.value)) },
      { label: t('incidents.points'), class: 'num', render: (f) => (f.points === null ? '—' : String(f.points)) },
      { label: t('incidents.weight'), class: 'num', render: (f) => String(f.weight) },
      { label: t('incidents.contribution'), class: 'num', render: (f) => (f.included ? f.contribution.toFixed(1) : t('incidents.excluded')) },
    ], incident.score.factors, { caption: t('incidents.score_caption') }),
    h('p', { class: 'help' }, t('incidents.score_method')));

  // ---- linked alerts ----
  const alertsBody = table([
    { label: t('alerts.event_time'), render: (a: NonNullable<Incident['alerts']>[number]) => link(`/alerts/${a.id}`, formatDateTime(a.event_time)) },
    { label: t('alerts.rule'), render: (a) => link(`/alerts/${a.id}`, a.title, { class: 'alert-title' }) },
    { label: t('alerts.level'), render: (a) => levelBadge(a.level) },
    { label: t('common.organization'), render: (a) => orgName(orgs, a.org_id) },
  ], incident.alerts ?? [], { empty: t('incidents.no_alerts'), label: t('incidents.alerts') });
  const canLink = edit && access.triageAlerts && incident.status !== 'closed';
  const alertsPanel = section(t('incidents.alerts'), alertsBody,
    canLink ? button(t('incidents.link_alert'), () => linkAlertDialog(ctx, incident), { class: 'btn btn-secondary' }) : null);

  // ---- linked incidents ----
  const linksPanel = section(t('incidents.links'),
    table([
      { label: t('common.reference'), render: (l: Incident['links'][number]) => link(`/incidents/${l.incident_id}`, l.reference) },
      { label: t('common.title'), render: (l) => l.title },
      { label: t('incidents.relation'), render: (l) => tEnum('link_relation', l.relation) },
      { label: t('common.created'), render: (l) => formatDateTime(l.created_at) },
    ], incident.links, { empty: t('incidents.no_links') }),
    edit ? button(t('incidents.link_incident'), () => linkIncidentDialog(ctx, incident), { class: 'btn btn-secondary' }) : null);

  // ---- timeline, comments, attachments (loaded after the page shows) ----
  const timeline = h('div', null, loading());
  const comments = h('div', null, loading());
  void loadTimeline(base, users, timeline);
  void loadComments(ctx, base, users, comments);

  const attachmentsPanel = section(t('incidents.attachments'),
    table([
      { label: t('incidents.file'), render: (a: Incident['attachments'][number]) => h('a', { href: a.url, download: a.filename }, a.filename) },
      { label: t('incidents.size'), class: 'num', render: (a) => formatBytes(a.size) },
      { label: 'SHA-256', render: (a) => h('code', { class: 'hash' }, a.sha256) },
      { label: t('incidents.uploaded_by'), render: (a) => userLabel(users, a.uploaded_by) },
      { label: t('common.created'), render: (a) => formatDateTime(a.created_at) },
    ], incident.attachments, { empty: t('incidents.no_attachments') }),
    uploadForm(base, ctx, messages));

  const r = incident;
  const details = section(t('incidents.report'), dl([
    [t('incidents.description'), prose(r.description)],
    [t('incidents.category'), tEnum('incident.category', r.category)],
    [t('common.organization'), orgName(orgs, r.owner_org_id)],
    [t('incidents.reported_by'), userLabel(users, r.author_id)],
    [t('incidents.detected_at'), formatDateTime(r.detected_at)],
    [t('incidents.occurred_at'), formatDateTime(r.occurred_at)],
    [t('incidents.attack_vector'), tEnum('attack_vector', r.attack_vector)],
    [t('incidents.systems_affected'), formatNumber(r.systems_affected)],
    [t('incidents.records_affected'), formatNumber(r.records_affected)],
    [t('incidents.users_affected'), formatNumber(r.users_affected)],
    [t('incidents.techniques'), r.techniques_resolved?.length
      ? h('ul', { class: 'plain' }, ...r.techniques_resolved.map((x) => h('li', null, h('span', { class: 'tech-id' }, x.id), x.name ? ` ${x.name}` : '')))
      : (r.techniques.join(', ') || '—')],
    [t('incidents.indicators'), r.indicators.length
      ? h('ul', { class: 'plain' }, ...r.indicators.map((i) => h('li', null, `${tEnum('indicator_type', i.type)}: `, h('code', null, i.value))))
      : '—'],
    [t('incidents.mitigations'), r.mitigations ? prose(r.mitigations) : '—'],
    [t('incidents.contact'), `${r.point_of_contact.name} <${r.point_of_contact.email}>${r.point_of_contact.phone ? ` ${r.point_of_contact.phone}` : ''}`],
    [t('common.created'), formatDateTime(r.created_at)],
    [t('common.updated'), formatDateTime(r.updated_at)],
  ]));

  return h('div', { class: 'incident' },
    pageHeader(`${incident.reference} ${incident.title}`),
    h('p', { class: 'badges' },
      h('span', { class: 'incident-status' }, statusBadge('incident.status', incident.status)), ' ',
      priorityBadge(incident.score.priority), ' ', tlpBadge(incident.tlp)),
    messages.el,
    h('div', { class: 'two-col' },
      h('div', null, details, score),
      h('div', null, statusPanel,
        section(t('incidents.assignees'), ...assignees),
        alertsPanel, linksPanel)),
    attachmentsPanel,
    section(t('incidents.timeline'), timeline),
    section(t('incidents.comments'), comments),
    h('p', null, link('/incidents', t('incidents.back'))));
}

async function loadTimeline(base: string, users: Map<string, User>, container: HTMLElement): Promise<void> {
  try {
    const page = await get<ListPage<HistoryEntry>>(`${base}/history`);
    if (!page.items.length) {
      replace(container, h('p', { class: 'empty' }, t('common.empty')));
      return;
    }
    replace(container, h('ol', { class: 'timeline' }, ...page.items.map((e) => h('li', null,
      h('time', { datetime: e.at }, formatDateTime(e.at)), ' ',
      h('strong', null, tEnum('incident.history', e.kind)),
      e.from_status || e.to_status ? ` ${tEnum('incident.status', e.from_status)} → ${tEnum('incident.status', e.to_status)}` : '',
      ' — ', userLabel(users, e.actor_id),
      typeof e.detail?.note === 'string' && e.detail.note ? h('p', { class: 'note' }, e.detail.note) : null,
      Array.isArray(e.detail?.changed) ? h('p', { class: 'help' }, t('incidents.changed', { fields: (e.detail.changed as string[]).join(', ') })) : null))));
  } catch (error) {
    replace(container, notice('error', describe(error)));
  }
}

async function loadComments(ctx: PageContext, base: string, users: Map<string, User>, container: HTMLElement): Promise<void> {
  let items: Comment[];
  try {
    items = await getAll<Comment>(`${base}/comments`, {}, 1000);
  } catch (error) {
    replace(container, notice('error', describe(error)));
    return;
  }
  const body = field(t('incidents.comment'), textarea({ rows: 3, maxlength: 20000 }), { required: true });
  const messages = messageArea();
  const form = h('form', { novalidate: true }, messages.el, body.el, formActions(submit(t('incidents.add_comment'))));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!body.control.value.trim()) {
      body.setError(t('validation.required'));
      body.control.focus();
      return;
    }
    try {
      await busy(form, () => post(`${base}/comments`, { body: body.control.value }));
      ctx.refresh();
    } catch (error) {
      messages.show('error', describe(error));
    }
  });
  replace(container,
    items.length
      ? h('ol', { class: 'comments' }, ...items.map((c) => h('li', { class: 'comment' },
        h('p', { class: 'comment-meta' }, h('strong', null, userLabel(users, c.author_id)), ' · ', h('time', { datetime: c.created_at }, formatDateTime(c.created_at))),
        prose(c.body))))
      : h('p', { class: 'empty' }, t('incidents.no_comments')),
    form);
}

function uploadForm(base: string, ctx: PageContext, messages: ReturnType<typeof messageArea>): HTMLElement {
  const file = field(t('incidents.file'), input('file'), { help: t('incidents.file_help') });
  const form = h('form', { class: 'inline-form', novalidate: true }, file.el, formActions(submit(t('incidents.upload'))));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const chosen = (file.control as HTMLInputElement).files?.[0];
    if (!chosen) {
      file.setError(t('validation.required'));
      file.control.focus();
      return;
    }
    try {
      await busy(form, () => api('POST', `${base}/attachments`, undefined, {
        query: { filename: chosen.name },
        raw: { body: chosen, contentType: chosen.type || 'application/octet-stream' },
      }));
      ctx.refresh();
    } catch (error) {
      messages.show('error', describe(error));
    }
  });
  return form;
}

function linkAlertDialog(ctx: PageContext, incident: Incident): void {
  const messages = messageArea();
  const list = h('div', null, loading());
  const form = h('form', { novalidate: true }, messages.el, h('p', null, t('incidents.link_alert_lead')), list, formActions(submit(t('incidents.link_alert'))));
  const d = dialog(t('incidents.link_alert'), form, { wide: true });
  d.open();
  let choice: HTMLSelectElement | null = null;
  void (async () => {
    try {
      const query: Record<string, string | number> = { limit: 200 };
      if (ctx.session.access.centre) query.org_id = incident.owner_org_id;
      const page = await get<ListPage<Alert>>('/api/v1/alerts', query);
      const open = page.items.filter((a) => a.status === 'new' || a.status === 'acknowledged');
      if (!open.length) {
        replace(list, h('p', { class: 'empty' }, t('incidents.no_open_alerts')));
        return;
      }
      choice = select([['', t('common.choose')], ...open.map((a): [string, string] => [a.id, `${formatDateTime(a.event_time)} — ${a.rule.title} (${tEnum('level', a.rule.level)})`])], '');
      const f = field(t('incidents.alert'), choice, { required: true });
      replace(list, f.el);
      choice.focus();
    } catch (error) {
      replace(list, notice('error', describe(error)));
    }
  })();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!choice?.value) {
      messages.show('error', t('incidents.choose_alert'));
      choice?.focus();
      return;
    }
    try {
      await busy(form, () => post(`/api/v1/alerts/${encodeURIComponent(choice!.value)}/attach`, { incident_id: incident.id }));
      d.close();
      ctx.refresh();
    } catch (error) {
      messages.show('error', describe(error));
    }
  });
}

function linkIncidentDialog(ctx: PageContext, incident: Incident): void {
  const messages = messageArea();
  const other = select([['', t('common.loading')]], '');
  const otherField = field(t('incidents.other_incident'), other, { required: true });
  const relation = field(t('incidents.relation'), enumSelect('link_relation', 'related'));
  const form = h('form', { novalidate: true }, messages.el, otherField.el, relation.el, formActions(submit(t('incidents.link_incident'))));
  const d = dialog(t('incidents.link_incident'), form);
  d.open();
  void (async () => {
    try {
      const items = await getAll<IncidentSummary>('/api/v1/incidents', {}, 400);
      other.replaceChildren(h('option', { value: '' }, t('common.choose')),
        ...items.filter((i) => i.id !== incident.id).map((i) => h('option', { value: i.id }, `${i.reference} — ${i.title}`)));
    } catch (error) {
      messages.show('error', describe(error));
    }
  })();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!other.value) {
      otherField.setError(t('validation.required'));
      other.focus();
      return;
    }
    try {
      await busy(form, () => post(`/api/v1/incidents/${incident.id}/links`, { incident_id: other.value, relation: relation.control.value }));
      d.close();
      ctx.refresh();
    } catch (error) {
      messages.show('error', describe(error));
    }
  });
}
