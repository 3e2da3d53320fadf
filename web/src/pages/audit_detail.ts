// One audit (監査): its header (reference, title, status, marking, the user's role), what it is
// about (organisation, standard, period, objectives, conclusion), its progress, the leads'
// moves along the lifecycle, the team, and three tabs: the control checklist
// (audit_checklist.ts), the findings with their recommendations and follow-up
// (audit_findings.ts), and the team's history. The team reaches this page always, the audited
// organisation's administrators once the report is issued (anyone else gets "not found" from the
// server); what each may do follows access.ts and audit_flow.ts.
import { h, replace } from '../dom';
import { t, tEnum } from '../i18n';
import { get, post, patch, del, put, describe, describeRefusal, type ListPage } from '../api';
import { formatDate, formatDateTime, tlpLabel, timeZone } from '../format';
import type { PageContext } from '../app';
import type { Audit, AuditControl, AuditHistoryEntry, AuditMember, AuditResults, CaseCandidate, User } from '../types';
import {
  canChangeAuditStatus, canEditAudit, canManageAuditTeam, canSetAuditScope, canWorkOnAudit, isAuditeeAdmin, isOnAuditTeam,
} from '../access';
import {
  AUDIT_LIMITS, AUDIT_TLPS, auditMoves, dayInZone, endOfDayUtc, parseControlIds, parseProfile, startOfDayUtc, type AuditMove,
} from '../audit_flow';
import { orgMap, userMap } from '../session';
import { tabs } from '../ui/tabs';
import {
  pageHeader, section, dl, statusBadge, tlpBadge, badge, userLabel, userName, link, button, dialog, field, select,
  textarea, input, submit, formActions, messageArea, busy, table, prose, loading, notice, actionRunner, confirmAction,
} from '../ui/components';
import { progressDetails } from './audit_progress';
import { checklistTab } from './audit_checklist';
import { findingsTab } from './audit_findings';

export async function render(ctx: PageContext): Promise<HTMLElement> {
  const base = `/api/v1/audits/${encodeURIComponent(ctx.params.id)}`;
  const [audit, controls, results, users, orgs] = await Promise.all([
    get<Audit>(base),
    get<ListPage<AuditControl>>(`${base}/controls`).then((page) => page.items),
    get<AuditResults>(`${base}/findings`),
    userMap(),
    orgMap(),
  ]);
  const { access, me } = ctx.session;
  const messages = messageArea();
  const run = actionRunner(ctx.refresh, messages, describeRefusal);
  const team = isOnAuditTeam(access, audit);
  const candidates = canManageAuditTeam(access, audit)
    ? await get<ListPage<CaseCandidate>>('/api/v1/cases/candidates').then((page) => page.items).catch(() => [] as CaseCandidate[])
    : [];

  // The progress follows the checklist's saves without a reload.
  const progress = h('div', null, progressDetails(audit.progress));
  const progressChanged = async () => {
    try {
      replace(progress, progressDetails((await get<Audit>(base)).progress));
    } catch (error) {
      replace(progress, notice('error', describe(error)));
    }
  };

  // The report, one HTML page in either language, and the audit as OSCAL documents for other
  // tools (the server audits each download).
  const download = (path: string, label: string) => h('a', { class: 'btn btn-secondary', href: `${base}/${path}`, download: '' }, label);
  const header = pageHeader(`${audit.reference} ${audit.title}`,
    download('report?lang=en', t('audits.report_en')),
    download('report?lang=ja', t('audits.report_ja')),
    download('oscal/assessment-results', t('audits.download_results')),
    download('oscal/poam', t('audits.download_poam')),
    canEditAudit(access, audit) ? button(t('audits.edit'), () => editDialog(ctx, base, audit), { class: 'btn btn-secondary' }) : null,
    canSetAuditScope(access, audit) ? button(t('audits.change_scope'), () => scopeDialog(ctx, base), { class: 'btn btn-secondary' }) : null);

  const statusNotice = audit.status === 'cancelled'
    ? notice('info', t('audits.cancelled_notice'))
    : audit.status === 'closed' ? notice('info', t('audits.closed_notice'))
    : !team ? notice('info', t('audits.auditee_notice'))
    : null;

  const period = audit.planned_start || audit.planned_end
    ? `${formatDate(audit.planned_start)} – ${formatDate(audit.planned_end)}` : t('audits.no_period');
  const summary = section(t('audits.about'),
    audit.objectives ? prose(audit.objectives) : h('p', { class: 'empty' }, t('audits.no_objectives')),
    audit.conclusion ? h('div', { class: 'audit-conclusion' },
      h('h3', null, audit.status === 'cancelled' ? t('audits.cancel_reason') : t('audits.conclusion')), prose(audit.conclusion)) : null,
    dl([
      [t('audits.auditee'), audit.auditee_name],
      [t('audits.standard'), link(`/standards/${audit.standard_id}`, audit.standard_title)],
      [t('audits.period'), period],
      ...(audit.opened_by ? [[t('audits.opened_by'), userLabel(users, audit.opened_by)] as [string, HTMLElement]] : []),
      [t('common.created'), formatDateTime(audit.created_at)],
      ...(audit.issued_at ? [[t('audits.issued_at'), formatDateTime(audit.issued_at)] as [string, string]] : []),
      ...(audit.closed_at ? [[audit.status === 'cancelled' ? t('audits.cancelled_at') : t('audits.closed_at'), formatDateTime(audit.closed_at)] as [string, string]] : []),
    ]));

  let statusPanel: HTMLElement | null = null;
  const moves = canChangeAuditStatus(access, audit) ? auditMoves(audit.status) : [];
  if (moves.length) {
    statusPanel = section(t('audits.status_title'),
      h('p', { class: 'help' }, statusHelp(audit.status)),
      h('div', { class: 'toolbar' }, ...moves.map((move) =>
        button(moveLabel(move), () => moveDialog(ctx, base, move),
          { class: move.action === 'cancel' ? 'btn btn-danger' : move.action === 'back_to_fieldwork' ? 'btn btn-secondary' : 'btn btn-primary' }))));
  }

  const viewer = { auditee: isAuditeeAdmin(access, me, audit.auditee_org_id), teamRole: team ? audit.my_role : null };
  const tabList = [
    {
      name: 'checklist', label: t('audits.tab_checklist'),
      render: () => checklistTab({ base, audit, controls, findings: results.findings, users, editable: canWorkOnAudit(access, audit), changed: progressChanged }),
    },
    {
      name: 'findings', label: t('audits.tab_findings', { count: results.findings.length }),
      render: () => findingsTab({ ctx, base, audit, controls, results, users, orgs, viewer }),
    },
    ...(team ? [{ name: 'history', label: t('audits.tab_history'), render: () => historyTab(base, audit, users) }] : []),
  ];
  // After the report is issued the follow-up is what people come for.
  const firstTab = audit.status === 'issued' || audit.status === 'closed' ? 'findings' : 'checklist';

  return h('div', { class: 'audit' },
    header,
    h('p', { class: 'badges' },
      h('span', { class: 'audit-status' }, statusBadge('audit.status', audit.status)), ' ', tlpBadge(audit.tlp), ' ',
      team && audit.my_role ? badge(t('audits.your_role', { role: tEnum('audit.role', audit.my_role) }), `role role-${audit.my_role}`) : null),
    messages.el,
    statusNotice,
    h('div', { class: 'two-col' },
      h('div', null, summary, statusPanel),
      h('div', null, section(t('audits.progress'), progress),
        team ? teamPanel(ctx, base, audit, users, candidates, run, messages) : null)),
    tabs(tabList, firstTab, t('audits.tabs_label')),
    h('p', null, link('/audits', t('audits.back'))));
}

// What the leads' next moves need, for the status the audit is in.
function statusHelp(status: string): string {
  switch (status) {
    case 'planning': return t('audits.status_help_planning');
    case 'fieldwork': return t('audits.status_help_fieldwork');
    case 'reporting': return t('audits.status_help_reporting');
    default: return t('audits.status_help_issued');
  }
}

function moveLabel(move: AuditMove): string {
  switch (move.action) {
    case 'start_fieldwork': return t('audits.move_start_fieldwork');
    case 'start_reporting': return t('audits.move_start_reporting');
    case 'back_to_fieldwork': return t('audits.move_back_to_fieldwork');
    case 'issue': return t('audits.move_issue');
    case 'close': return t('audits.move_close');
    default: return t('audits.move_cancel');
  }
}

// A move along the lifecycle. Issuing and closing are refused (409) while something is missing
// (unassessed controls, a control not satisfied without a finding, a finding without a
// recommendation; recommendations still open): the server's words say what, so they are shown
// as they come.
function moveDialog(ctx: PageContext, base: string, move: AuditMove): void {
  const messages = messageArea();
  const label = move.action === 'close' ? t('audits.conclusion') : move.action === 'cancel' ? t('audits.cancel_reason') : t('audits.note');
  const help = move.action === 'close' ? t('audits.conclusion_help') : move.action === 'cancel' ? t('audits.cancel_reason_help') : t('audits.note_help');
  const note = field(label, textarea({ rows: move.action === 'close' ? 6 : 3, maxlength: AUDIT_LIMITS.text }), { required: move.noteRequired, help });
  const lead = move.action === 'issue' ? h('p', { class: 'help' }, t('audits.issue_lead')) : null;
  const form = h('form', { novalidate: true }, messages.el, lead, note.el,
    formActions(submit(moveLabel(move), move.action === 'cancel' ? { class: 'btn btn-danger' } : {})));
  const d = dialog(moveLabel(move), form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    note.setError(null);
    messages.clear();
    const text = note.control.value.trim();
    if (move.noteRequired && !text) {
      note.setError(t('validation.required'));
      note.control.focus();
      return;
    }
    try {
      await busy(form, () => post(`${base}/transitions`, { status: move.to, ...(text ? { note: note.control.value } : {}) }));
      d.close();
      ctx.refresh();
    } catch (error) {
      messages.show('error', describeRefusal(error));
    }
  });
  d.open();
}

// The leads' change of title, objectives, marking and planned period until the report is
// issued; `version` makes a concurrent change a 409. An emptied date clears it (null).
function editDialog(ctx: PageContext, base: string, audit: Audit): void {
  const messages = messageArea();
  const tz = timeZone();
  const title = field(t('common.title'), input('text', { value: audit.title, maxlength: AUDIT_LIMITS.title }), { required: true });
  const objectives = field(t('audits.objectives'), textarea({ rows: 5, maxlength: AUDIT_LIMITS.text }), { help: t('audits.objectives_help') });
  objectives.control.value = audit.objectives;
  const tlp = field('TLP', select(AUDIT_TLPS.map((v): [string, string] => [v, tlpLabel(v)]), audit.tlp), { required: true, help: t('audits.tlp_help') });
  const start = field(t('audits.planned_start'), input('date', { value: dayInZone(audit.planned_start, tz) }), { help: t('audits.date_help', { zone: tz }) });
  const end = field(t('audits.planned_end'), input('date', { value: dayInZone(audit.planned_end, tz) }));
  const form = h('form', { novalidate: true }, messages.el, title.el, objectives.el, tlp.el, start.el, end.el, formActions(submit(t('common.save'))));
  const d = dialog(t('audits.edit'), form, { wide: true });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    [title, start, end].forEach((f) => f.setError(null));
    if (!title.control.value.trim()) {
      title.setError(t('validation.required'));
      title.control.focus();
      return;
    }
    const from = start.control.value ? startOfDayUtc(start.control.value, tz) : null;
    const to = end.control.value ? endOfDayUtc(end.control.value, tz) : null;
    if (from && to && Date.parse(to) < Date.parse(from)) {
      end.setError(t('validation.to_after_from'));
      end.control.focus();
      return;
    }
    try {
      await busy(form, () => patch(base, {
        title: title.control.value.trim(), objectives: objectives.control.value, tlp: tlp.control.value,
        planned_start: from, planned_end: to, version: audit.version,
      }));
      d.close();
      ctx.refresh();
    } catch (error) {
      messages.show('error', describe(error));
    }
  });
  d.open();
}

// A new scope while planning: every control, a list of ids, or an OSCAL profile file.
function scopeDialog(ctx: PageContext, base: string): void {
  const messages = messageArea();
  const name = 'scope-change';
  const radio = (value: string, text: string, checked = false) => {
    const id = `${name}-${value}`;
    const box = h('input', { type: 'radio', name, id, value, checked });
    return { box, el: h('div', { class: 'field-check' }, box, h('label', { for: id }, text)) };
  };
  const all = radio('all', t('audits.scope_all'), true);
  const list = radio('list', t('audits.scope_list'));
  const profile = radio('profile', t('audits.scope_profile'));
  const ids = field(t('audits.control_ids'), textarea({ rows: 3, spellcheck: 'false' }), { required: true, help: t('audits.control_ids_help') });
  const file = field(t('audits.profile_file'), input('file', { accept: '.json,application/json' }), { required: true, help: t('audits.profile_help') });
  const show = () => { ids.el.hidden = !list.box.checked; file.el.hidden = !profile.box.checked; };
  for (const r of [all, list, profile]) r.box.addEventListener('change', show);
  show();
  const form = h('form', { novalidate: true }, messages.el,
    h('fieldset', null, h('legend', null, t('audits.scope')), h('p', { class: 'help' }, t('audits.scope_change_help')),
      all.el, list.el, profile.el, ids.el, file.el),
    formActions(submit(t('audits.scope_save'))));
  const d = dialog(t('audits.change_scope'), form, { wide: true });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    ids.setError(null);
    file.setError(null);
    let body: Record<string, unknown> = {};
    if (list.box.checked) {
      const chosen = parseControlIds(ids.control.value);
      if (!chosen.length) {
        ids.setError(t('validation.required'));
        ids.control.focus();
        return;
      }
      body = { control_ids: chosen };
    } else if (profile.box.checked) {
      const chosen = (file.control as HTMLInputElement).files?.[0];
      const read = chosen ? parseProfile(await chosen.text()) : { error: 'validation.required' };
      if ('error' in read) {
        file.setError(t(read.error));
        file.control.focus();
        return;
      }
      body = { profile: read.profile };
    }
    try {
      await busy(form, () => put(`${base}/scope`, body));
      d.close();
      ctx.refresh();
    } catch (error) {
      messages.show('error', describe(error));
    }
  });
  d.open();
}

type Run = (form: HTMLElement, work: () => Promise<unknown>) => Promise<void>;

// The team: the centre's staff on the audit with their roles. Leads add, change and remove
// members until the audit is over; the last lead stays.
function teamPanel(ctx: PageContext, base: string, audit: Audit, users: Map<string, User>, candidates: CaseCandidate[], run: Run,
                   messages: ReturnType<typeof messageArea>): HTMLElement {
  const manage = canManageAuditTeam(ctx.session.access, audit);
  const leads = audit.members.filter((m) => m.role === 'lead').length;
  const nameOf = (m: AuditMember) => m.display_name || m.username || userName(users, m.user_id);
  const actions = (m: AuditMember): HTMLElement | string => {
    if (!manage || (m.role === 'lead' && leads <= 1)) return '—';
    const role = select(['lead', 'member', 'reader'].map((r): [string, string] => [r, tEnum('audit.role', r)]), m.role,
      { 'aria-label': t('audits.role_of', { name: nameOf(m) }) });
    const change = h('form', { class: 'inline-controls' }, role,
      h('button', { type: 'submit', class: 'btn btn-small', 'aria-label': t('audits.change_role_of', { name: nameOf(m) }) }, t('audits.change_role')));
    change.addEventListener('submit', (event) => {
      event.preventDefault();
      if (role.value !== m.role) void run(change, () => post(`${base}/members`, { user_id: m.user_id, role: role.value }));
    });
    const remove = button(t('audits.remove_member'), async () => {
      if (!await confirmAction(t('audits.remove_member'), t('audits.remove_member_confirm', { name: nameOf(m) }), t('audits.remove_member'))) return;
      await run(messages.el, () => del(`${base}/members/${encodeURIComponent(m.user_id)}`));
    }, { class: 'btn btn-quiet btn-small', 'aria-label': t('audits.remove_member_named', { name: nameOf(m) }) });
    return h('div', { class: 'member-actions' }, change, remove);
  };
  const list = table([
    { label: t('audits.member'), render: (m: AuditMember) => h('span', null, nameOf(m), m.username ? h('span', { class: 'help' }, ` (${m.username})`) : null) },
    { label: t('audits.role'), render: (m) => badge(tEnum('audit.role', m.role), `role role-${m.role}`) },
    ...(manage ? [{ label: t('common.actions'), render: actions }] : []),
  ], audit.members, { label: t('audits.team') });

  let add: HTMLElement | null = null;
  if (manage) {
    const memberIds = new Set(audit.members.map((m) => m.user_id));
    const staff = candidates.filter((c) => !memberIds.has(c.user_id));
    const who = staff.length
      ? field(t('audits.add_who'), select([['', t('common.choose')], ...staff.map((c): [string, string] => [c.user_id, `${c.display_name || c.username} (${c.username})`])], ''), { required: true })
      : field(t('audits.add_user_id'), input('text', { maxlength: 64, autocomplete: 'off', spellcheck: 'false' }), { required: true, help: t('audits.add_user_id_help') });
    const role = field(t('audits.role'), select(['lead', 'member', 'reader'].map((r): [string, string] => [r, tEnum('audit.role', r)]), 'member'),
      { required: true, help: t('audits.roles_help') });
    const form = h('form', { class: 'inline-form', novalidate: true }, who.el, role.el, formActions(submit(t('audits.add_member'))));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      who.setError(null);
      const userId = (who.control as HTMLInputElement | HTMLSelectElement).value.trim();
      if (!userId) {
        who.setError(t('validation.required'));
        who.control.focus();
        return;
      }
      void run(form, () => post(`${base}/members`, { user_id: userId, role: role.control.value }));
    });
    add = h('div', null, h('h3', null, t('audits.add_member')), form);
  }
  return section(t('audits.team'), list, add);
}

// The team's record of the audit, oldest first.
function historyTab(base: string, audit: Audit, users: Map<string, User>): HTMLElement {
  const container = h('div', { class: 'audit-history' }, loading());
  void (async () => {
    let items: AuditHistoryEntry[];
    try {
      items = (await get<{ items: AuditHistoryEntry[] }>(`${base}/history`)).items;
    } catch (error) {
      replace(container, notice('error', describe(error)));
      return;
    }
    if (!items.length) {
      replace(container, h('p', { class: 'empty' }, t('common.empty')));
      return;
    }
    const memberName = (uid: string) => {
      const member = audit.members.find((m) => m.user_id === uid);
      return member ? (member.display_name || member.username) : userName(users, uid);
    };
    const text = (value: unknown) => (typeof value === 'string' && value ? value : null);
    replace(container, h('ol', { class: 'timeline audit-history-list' }, ...items.map((e) => {
      const d = e.detail ?? {};
      const facts: string[] = [];
      const statusGroup = e.kind === 'follow_up' ? 'audit.recommendation_status' : 'audit.status';
      if (text(d.recommendation)) facts.push(d.recommendation as string);
      if (text(d.finding)) facts.push(d.finding as string);
      if (text(d.from) && text(d.to)) facts.push(`${tEnum(statusGroup, d.from as string)} → ${tEnum(statusGroup, d.to as string)}`);
      if (text(d.control_id)) facts.push(d.control_id as string);
      if (text(d.result)) facts.push(tEnum('audit.result', d.result as string));
      if (text(d.risk)) facts.push(tEnum('audit.risk', d.risk as string));
      if (text(d.user_id)) facts.push(`${memberName(d.user_id as string)}${text(d.role) ? ` (${tEnum('audit.role', d.role as string)})` : ''}`);
      if (text(d.due_at)) facts.push(t('audits.history_due', { due: formatDate(d.due_at as string) }));
      if (typeof d.controls === 'number') facts.push(t('audits.history_controls', { count: d.controls }));
      if (Array.isArray(d.changed) && d.changed.length) facts.push(t('audits.history_changed', { fields: (d.changed as string[]).map(changedField).join(', ') }));
      return h('li', null,
        h('time', { datetime: e.at }, formatDateTime(e.at)), ' ',
        h('strong', null, tEnum('audit.history', e.kind)),
        facts.length ? ` — ${facts.join(' · ')}` : '',
        ' — ', userLabel(users, e.actor_id),
        text(d.note) ? h('p', { class: 'note' }, d.note as string) : null);
    })));
  })();
  return container;
}

function changedField(name: string): string {
  switch (name) {
    case 'title': return t('common.title');
    case 'objectives': return t('audits.objectives');
    case 'planned_start': return t('audits.planned_start');
    case 'planned_end': return t('audits.planned_end');
    default: return name === 'tlp' ? 'TLP' : name;
  }
}
