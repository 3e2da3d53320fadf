// One investigation (調査案件): its header (reference, title, status, marking, the user's role),
// summary and conclusion, members, status actions, the incidents and alerts it looks into, its
// evidence with the chain of custody (case_evidence.ts), its timeline (case_timeline.ts) and its
// history. Only members reach this page (anyone else gets "not found" from the server); what
// each may do follows their role in the case (access.ts), and a closed case is read-only until
// a lead reopens it.
import { h, replace } from '../dom';
import { t, tEnum } from '../i18n';
import { get, post, patch, del, describe, type ListPage } from '../api';
import { formatDateTime, formatNumber, tlpLabel } from '../format';
import { navigate } from '../router';
import type { PageContext } from '../app';
import type { Case, CaseCandidate, CaseHistoryEntry, CaseLink, CaseMember, Organization, User } from '../types';
import { canChangeCaseStatus, canRemoveCaseMembers, canRunCase, canWorkOnCase } from '../access';
import { caseMoves, linkTarget, CASE_TLPS, LIMITS, type CaseMove } from '../case_flow';
import {
  pageHeader, section, dl, statusBadge, tlpBadge, levelBadge, badge, userLabel, userName, link, button, dialog,
  field, select, enumSelect, textarea, input, submit, formActions, messageArea, busy, table, prose, loading, notice,
  actionRunner, confirmAction, orgName, type Column,
} from '../ui/components';
import { orgMap, userMap } from '../session';
import { evidenceSection } from './case_evidence';
import { timelineSection } from './case_timeline';

export async function render(ctx: PageContext): Promise<HTMLElement> {
  const id = ctx.params.id;
  const base = `/api/v1/cases/${encodeURIComponent(id)}`;
  // The centre's staff a lead may add (names only); a failure leaves the id field instead.
  const [kase, orgs, users, candidates] = await Promise.all([
    get<Case>(base), orgMap(), userMap(),
    get<ListPage<CaseCandidate>>('/api/v1/cases/candidates').then((page) => page.items).catch(() => [] as CaseCandidate[]),
  ]);
  const { access } = ctx.session;
  const messages = messageArea();
  const run = actionRunner(ctx.refresh, messages, describe);
  const lead = canRunCase(access, kase);

  // ---- status ----
  let statusPanel: HTMLElement | null = null;
  if (canChangeCaseStatus(access, kase)) {
    const moves = caseMoves(kase.status);
    statusPanel = section(t('cases.status_title'),
      h('p', { class: 'help' }, t('cases.status_help')),
      h('div', { class: 'toolbar' }, ...moves.map((move) =>
        button(moveLabel(move), () => moveDialog(ctx, base, move), { class: move.action === 'close' ? 'btn btn-danger' : 'btn btn-secondary' }))));
  }

  const summaryPanel = section(t('cases.summary'),
    kase.summary ? prose(kase.summary) : h('p', { class: 'empty' }, t('cases.no_summary')),
    kase.conclusion ? h('div', { class: 'case-conclusion' }, h('h3', null, t('cases.conclusion')), prose(kase.conclusion)) : null,
    dl([
      [t('cases.opened_by'), userLabel(users, kase.opened_by)],
      [t('common.created'), formatDateTime(kase.created_at)],
      [t('common.updated'), formatDateTime(kase.updated_at)],
      ...(kase.closed_at ? [[t('cases.closed_at'), formatDateTime(kase.closed_at)] as [string, string]] : []),
    ]));

  // The history follows what the evidence and timeline sections change without a reload.
  const history = h('div', null, loading());
  const changed = () => { void loadHistory(base, kase, users, history); };
  changed();

  // A hunt in an item's file adds to the timeline, which then reloads itself.
  const hooks: { reloadTimeline?: () => Promise<void> } = {};
  const timeline = timelineSection({ ctx, kase, base, users, changed, hooks });
  // The investigation report, one HTML page in either language (the server audits each).
  const report = (lang: 'en' | 'ja', label: string) =>
    h('a', { class: 'btn btn-secondary', href: `${base}/report?lang=${lang}`, download: '' }, label);

  return h('div', { class: 'case' },
    pageHeader(`${kase.reference} ${kase.title}`,
      report('en', t('cases.report_en')), report('ja', t('cases.report_ja')),
      lead ? button(t('cases.edit'), () => editDialog(ctx, base, kase), { class: 'btn btn-secondary' }) : null),
    h('p', { class: 'badges' },
      h('span', { class: 'case-status' }, statusBadge('case.status', kase.status)), ' ', tlpBadge(kase.tlp), ' ',
      kase.my_role ? badge(t('cases.your_role', { role: tEnum('case.role', kase.my_role) }), `role role-${kase.my_role}`) : null),
    messages.el,
    kase.status === 'closed' ? notice('info', t('cases.closed_notice')) : null,
    h('div', { class: 'two-col' },
      h('div', null, summaryPanel, statusPanel),
      h('div', null, membersPanel(ctx, base, kase, users, candidates, run, messages), linksPanel(ctx, base, kase, orgs, run, messages))),
    evidenceSection({ ctx, kase, base, users, orgs, changed, timelineChanged: () => hooks.reloadTimeline?.() }),
    timeline,
    section(t('cases.history'), history),
    h('p', null, link('/cases', t('cases.back'))));
}

function moveLabel(move: CaseMove): string {
  switch (move.action) {
    case 'hold': return t('cases.move_hold');
    case 'resume': return t('cases.move_resume');
    case 'close': return t('cases.move_close');
    default: return t('cases.move_reopen');
  }
}

// Holding, resuming, closing (with the conclusion) or reopening (with the reason).
function moveDialog(ctx: PageContext, base: string, move: CaseMove): void {
  const messages = messageArea();
  const label = move.action === 'close' ? t('cases.conclusion') : move.action === 'reopen' ? t('cases.reopen_reason') : t('cases.note');
  const help = move.action === 'close' ? t('cases.conclusion_help') : move.action === 'reopen' ? t('cases.reopen_reason_help') : t('cases.note_help');
  const note = field(label, textarea({ rows: move.action === 'close' ? 6 : 3, maxlength: LIMITS.text }), { required: move.noteRequired, help });
  const form = h('form', { novalidate: true }, messages.el, note.el, formActions(submit(moveLabel(move))));
  const d = dialog(moveLabel(move), form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    note.setError(null);
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
      messages.show('error', describe(error));
    }
  });
  d.open();
}

// The leads' change of title, summary and marking; `version` makes a concurrent change a 409.
function editDialog(ctx: PageContext, base: string, kase: Case): void {
  const messages = messageArea();
  const title = field(t('common.title'), input('text', { value: kase.title, maxlength: LIMITS.title }), { required: true });
  const summary = field(t('cases.summary'), textarea({ rows: 6, maxlength: LIMITS.text }), { help: t('cases.summary_help') });
  summary.control.value = kase.summary;
  const tlp = field('TLP', select(CASE_TLPS.map((v): [string, string] => [v, tlpLabel(v)]), kase.tlp), { required: true, help: t('cases.tlp_help') });
  const form = h('form', { novalidate: true }, messages.el, title.el, summary.el, tlp.el, formActions(submit(t('common.save'))));
  const d = dialog(t('cases.edit'), form, { wide: true });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    title.setError(null);
    if (!title.control.value.trim()) {
      title.setError(t('validation.required'));
      title.control.focus();
      return;
    }
    try {
      await busy(form, () => patch(base, {
        title: title.control.value.trim(), summary: summary.control.value, tlp: tlp.control.value, version: kase.version,
      }));
      d.close();
      ctx.refresh();
    } catch (error) {
      messages.show('error', describe(error));
    }
  });
  d.open();
}

type Run = (form: HTMLElement, work: () => Promise<unknown>) => Promise<void>;

function membersPanel(ctx: PageContext, base: string, kase: Case, users: Map<string, User>, candidates: CaseCandidate[], run: Run,
                      messages: ReturnType<typeof messageArea>): HTMLElement {
  const { access, me } = ctx.session;
  const lead = canRunCase(access, kase);
  const remove = canRemoveCaseMembers(access, kase);
  const leads = kase.members.filter((m) => m.role === 'lead').length;
  const nameOf = (m: CaseMember) => m.display_name || m.username || userName(users, m.user_id);

  const actions = (m: CaseMember): HTMLElement | string => {
    const parts: HTMLElement[] = [];
    const lastLead = m.role === 'lead' && leads <= 1;
    if (lead && !lastLead) {
      const role = enumSelect('case.role', m.role, undefined, { 'aria-label': t('cases.role_of', { name: nameOf(m) }) });
      const change = h('form', { class: 'inline-controls' }, role,
        h('button', { type: 'submit', class: 'btn btn-small', 'aria-label': t('cases.change_role_of', { name: nameOf(m) }) }, t('cases.change_role')));
      change.addEventListener('submit', (event) => {
        event.preventDefault();
        if (role.value === m.role) return;
        void run(change, () => post(`${base}/members`, { user_id: m.user_id, role: role.value }));
      });
      parts.push(change);
    }
    if (m.user_id === me.user.id) {
      if (!lastLead) {
        parts.push(button(t('cases.leave'), async () => {
          if (!await confirmAction(t('cases.leave'), t('cases.leave_confirm'), t('cases.leave'))) return;
          try {
            await del(`${base}/members/${encodeURIComponent(m.user_id)}`);
            navigate('/cases');
          } catch (error) {
            messages.show('error', describe(error));
          }
        }, { class: 'btn btn-quiet btn-small' }));
      }
    } else if (remove && !lastLead) {
      parts.push(button(t('cases.remove_member'), async () => {
        if (!await confirmAction(t('cases.remove_member'), t('cases.remove_member_confirm', { name: nameOf(m) }), t('cases.remove_member'))) return;
        await run(messages.el, () => del(`${base}/members/${encodeURIComponent(m.user_id)}`));
      }, { class: 'btn btn-quiet btn-small', 'aria-label': t('cases.remove_member_named', { name: nameOf(m) }) }));
    }
    return parts.length ? h('div', { class: 'member-actions' }, ...parts) : '—';
  };

  const list = table([
    { label: t('cases.member'), render: (m: CaseMember) => h('span', null, nameOf(m), m.username ? h('span', { class: 'help' }, ` (${m.username})`) : null) },
    { label: t('cases.role'), render: (m) => badge(tEnum('case.role', m.role), `role role-${m.role}`) },
    { label: t('common.actions'), render: actions },
  ], kase.members, { label: t('cases.members') });

  let add: HTMLElement | null = null;
  if (lead) {
    // The centre's staff who are not members yet; when the list cannot be had, a colleague is
    // named by user id.
    const memberIds = new Set(kase.members.map((m) => m.user_id));
    const staff = candidates.filter((c) => !memberIds.has(c.user_id));
    const who = staff.length
      ? field(t('cases.add_who'), select([['', t('common.choose')], ...staff.map((c): [string, string] => [c.user_id, `${c.display_name || c.username} (${c.username})`])], ''), { required: true })
      : field(t('cases.add_user_id'), input('text', { maxlength: 64, autocomplete: 'off', spellcheck: 'false' }), { required: true, help: t('cases.add_user_id_help') });
    const role = field(t('cases.role'), enumSelect('case.role', 'member'), { required: true, help: t('cases.roles_help') });
    const form = h('form', { class: 'inline-form', novalidate: true }, who.el, role.el, formActions(submit(t('cases.add_member'))));
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
    add = h('div', null, h('h3', null, t('cases.add_member')), form);
  }
  return section(t('cases.members'), list, add);
}

function linksPanel(ctx: PageContext, base: string, kase: Case, orgs: Map<string, Organization>, run: Run,
                    messages: ReturnType<typeof messageArea>): HTMLElement {
  const work = canWorkOnCase(ctx.session.access, kase);
  const path = (l: CaseLink) => `/${l.type === 'incident' ? 'incidents' : 'alerts'}/${l.id}`;
  const columns: Column<CaseLink>[] = [
    { label: t('cases.link_what'), render: (l) => h('span', null,
      h('span', { class: 'help' }, `${tEnum('case.link_type', l.type)} · ${orgName(orgs, l.org_id)}`), h('br'),
      link(path(l), l.reference ? `${l.reference} ${l.title}` : l.title, { class: 'case-link-title' }),
      l.note ? h('p', { class: 'help prose' }, l.note) : null) },
    { label: t('common.status'), render: (l) => h('span', null,
      statusBadge(l.type === 'incident' ? 'incident.status' : 'alert.status', l.status), ' ',
      l.type === 'alert' ? levelBadge(l.level) : badge(tEnum('priority', l.level), 'status')) },
    { label: t('cases.link_at'), render: (l) => h('span', null, formatDateTime(l.at),
      l.host ? h('span', { class: 'help' }, ` ${l.host}`) : null,
      l.techniques.length ? h('br') : null, ...l.techniques.map((x) => h('span', { class: 'tech-id' }, `${x} `))) },
  ];
  if (work) {
    columns.push({ label: t('common.actions'), render: (l) => button(t('cases.unlink'), () => {
      void run(messages.el, () => del(`${base}/links/${l.type}/${encodeURIComponent(l.id)}`));
    }, { class: 'btn btn-quiet btn-small', 'aria-label': t('cases.unlink_named', { name: l.reference ?? l.title }) }) });
  }
  const list = table(columns, kase.links, { empty: t('cases.no_links'), label: t('cases.links') });
  const hidden = kase.hidden_links > 0 ? h('p', { class: 'help' }, t('cases.hidden_links', { count: kase.hidden_links })) : null;

  let add: HTMLElement | null = null;
  if (work) {
    const type = field(t('cases.link_type'), enumSelect('case.link_type', 'incident'), { required: true });
    const target = field(t('cases.link_id'), input('text', { maxlength: 300, autocomplete: 'off', spellcheck: 'false' }), { required: true, help: t('cases.link_id_help') });
    const note = field(t('cases.link_note'), textarea({ rows: 2, maxlength: LIMITS.text }));
    const form = h('form', { class: 'inline-form', novalidate: true }, type.el, target.el, note.el, formActions(submit(t('cases.link'))));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      target.setError(null);
      const chosen = linkTarget(target.control.value, type.control.value);
      if (!chosen) {
        target.setError(target.control.value.trim() ? t('cases.link_id_invalid') : t('validation.required'));
        target.control.focus();
        return;
      }
      void run(form, () => post(`${base}/links`, { type: chosen.type, id: chosen.id, ...(note.control.value.trim() ? { note: note.control.value } : {}) }));
    });
    add = h('div', null, h('h3', null, t('cases.add_link')), form);
  }
  return section(t('cases.links'), list, hidden, add);
}

// Who changed what in the case, oldest first.
async function loadHistory(base: string, kase: Case, users: Map<string, User>, container: HTMLElement): Promise<void> {
  let items: CaseHistoryEntry[];
  try {
    items = (await get<{ items: CaseHistoryEntry[] }>(`${base}/history`)).items;
  } catch (error) {
    replace(container, notice('error', describe(error)));
    return;
  }
  if (!items.length) {
    replace(container, h('p', { class: 'empty' }, t('common.empty')));
    return;
  }
  const memberName = (uid: string) => {
    const member = kase.members.find((m) => m.user_id === uid);
    return member ? (member.display_name || member.username) : userName(users, uid);
  };
  const text = (value: unknown) => (typeof value === 'string' && value ? value : null);
  replace(container, h('ol', { class: 'timeline case-history' }, ...items.map((e) => {
    const d = e.detail ?? {};
    const facts: string[] = [];
    if (text(d.from) && text(d.to)) facts.push(`${tEnum('case.status', d.from as string)} → ${tEnum('case.status', d.to as string)}`);
    if (text(d.user_id)) facts.push(`${memberName(d.user_id as string)}${text(d.role) ? ` (${tEnum('case.role', d.role as string)})` : ''}`);
    if (text(d.type) && text(d.id)) facts.push(`${tEnum('case.link_type', d.type as string)} ${(d.id as string).slice(0, 8)}…`);
    if (text(d.label)) facts.push(d.label as string);
    if (text(d.filename)) facts.push(d.filename as string);
    if (text(d.source)) facts.push(typeof d.entries === 'number' ? t('cases.history_import', { source: d.source as string, entries: formatNumber(d.entries) }) : d.source as string);
    if (Array.isArray(d.changed) && d.changed.length) facts.push(t('cases.history_changed', { fields: (d.changed as string[]).map(changedField).join(', ') }));
    const note = text(d.note) ?? text(d.purpose);
    return h('li', null,
      h('time', { datetime: e.at }, formatDateTime(e.at)), ' ',
      h('strong', null, tEnum('case.history', e.kind)),
      facts.length ? ` — ${facts.join(' · ')}` : '',
      ' — ', userLabel(users, e.actor_id),
      note ? h('p', { class: 'note' }, note) : null);
  })));
}

function changedField(name: string): string {
  if (name === 'title') return t('common.title');
  if (name === 'summary') return t('cases.summary');
  return name === 'tlp' ? 'TLP' : name;
}
