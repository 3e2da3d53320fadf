// An audit's findings (指摘事項), each against a control in scope, with the recommendations
// (改善勧告) made about it and their follow-up (フォローアップ): status, due date, overdue, every
// step taken with its note, and the steps the user may take now (audit_flow.followUpActions).
// The team's leads and members write findings and recommendations in fieldwork and reporting;
// once the report is issued the audited organisation's administrators report progress, the
// team verifies, and a lead may move a due date. Each recommendation lists its files (the
// organisation's proof, the team's working papers) and offers to attach one to those allowed
// (audit_flow.canAttachToRecommendation).
import { h } from '../dom';
import { t, tEnum } from '../i18n';
import { post, patch, upload, describeRefusal, ApiError } from '../api';
import { formatBytes, formatDate, formatDateTime, timeZone } from '../format';
import type { PageContext } from '../app';
import type { Audit, AuditAttachment, AuditControl, AuditFinding, AuditRecommendation, AuditResults, Organization, User } from '../types';
import { canExtendAuditRecommendation, canWorkOnAudit } from '../access';
import {
  AUDIT_LIMITS, canAttachToRecommendation, controlName, dayInZone, followUpActions, shortHash, validateFinding, validateRecommendation,
  type FollowUpAction, type FollowUpViewer,
} from '../audit_flow';
import type { Errors } from '../incident_validation';
import { values } from '../enums';
import {
  badge, button, dialog, field, input, select, textarea, submit, formActions, busy, messageArea, prose, userLabel, orgLabel,
  type Field,
} from '../ui/components';

export interface FindingsOptions {
  ctx: PageContext;
  base: string;
  audit: Audit;
  controls: AuditControl[];
  results: AuditResults;
  users: Map<string, User>;
  orgs: Map<string, Organization>;
  viewer: FollowUpViewer;
}

export function findingsTab(options: FindingsOptions): HTMLElement {
  const { ctx, audit, results } = options;
  const work = canWorkOnAudit(ctx.session.access, audit);
  const byFinding = (id: string) => results.recommendations.filter((r) => r.finding_id === id);
  return h('div', { class: 'audit-findings' },
    h('p', { class: 'help' }, audit.status === 'issued' ? t('audits.findings_help_issued') : t('audits.findings_help')),
    work ? button(t('audits.add_finding'), () => findingDialog(options, null), { class: 'btn btn-primary section-actions' }) : null,
    results.findings.length
      ? results.findings.map((finding) => findingItem(options, finding, byFinding(finding.id), work))
      : h('p', { class: 'empty' }, t('audits.no_findings')));
}

function riskBadge(risk: string): HTMLElement {
  return badge(tEnum('audit.risk', risk), `risk risk-${risk}`);
}

function findingItem(options: FindingsOptions, finding: AuditFinding, recommendations: AuditRecommendation[], work: boolean): HTMLElement {
  const control = options.controls.find((c) => c.control_id === finding.control_id);
  const controlText = control ? `${controlName(control)} ${control.title}` : finding.control_id;
  return h('article', { class: 'panel audit-finding', 'data-finding': finding.reference },
    h('div', { class: 'page-header' },
      h('h3', null, `${finding.reference} ${finding.title}`),
      work ? h('div', { class: 'page-actions' },
        button(t('audits.edit_finding'), () => findingDialog(options, finding), { class: 'btn btn-small', 'aria-label': t('audits.edit_named', { name: finding.reference }) }),
        button(t('audits.add_recommendation'), () => recommendationDialog(options, finding, null),
          { class: 'btn btn-small btn-secondary', 'aria-label': t('audits.add_recommendation_to', { finding: finding.reference }) })) : null),
    h('p', { class: 'badges' }, riskBadge(finding.risk), ' ', h('span', { class: 'help' }, t('audits.finding_control', { control: controlText }))),
    finding.description ? prose(finding.description) : null,
    h('p', { class: 'help' }, t('audits.written_on', { at: formatDateTime(finding.created_at) }), ' ', userLabel(options.users, finding.created_by)),
    recommendations.length
      ? h('div', { class: 'audit-recommendations' }, ...recommendations.map((r) => recommendationItem(options, finding, r, work)))
      : h('p', { class: 'empty' }, t('audits.no_recommendations')));
}

function recommendationItem(options: FindingsOptions, finding: AuditFinding, rec: AuditRecommendation, work: boolean): HTMLElement {
  const { ctx, audit, viewer } = options;
  const actions = followUpActions(viewer, audit.status, rec.status);
  const extend = canExtendAuditRecommendation(ctx.session.access, audit);
  const buttons = [
    ...actions.map((action) => button(followUpLabel(action), () => followUpDialog(options, rec, action),
      { class: action.action === 'accept_risk' ? 'btn btn-small btn-danger' : 'btn btn-small btn-primary',
        'aria-label': t('audits.follow_named', { action: followUpLabel(action), reference: rec.reference }) })),
    work ? button(t('audits.edit_recommendation'), () => recommendationDialog(options, finding, rec),
      { class: 'btn btn-small', 'aria-label': t('audits.edit_named', { name: rec.reference }) }) : null,
    extend ? button(t('audits.move_due'), () => recommendationDialog(options, finding, rec),
      { class: 'btn btn-small', 'aria-label': t('audits.move_due_of', { reference: rec.reference }) }) : null,
  ].filter((b): b is HTMLButtonElement => b !== null);
  return h('section', { class: 'audit-recommendation', 'data-recommendation': rec.reference, 'aria-label': rec.reference },
    h('h4', null, rec.reference, ' ',
      h('span', { class: 'recommendation-status' }, badge(tEnum('audit.recommendation_status', rec.status), `status status-${rec.status}`)),
      rec.overdue ? [' ', badge(t('common.overdue'), 'status status-overdue')] : null),
    prose(rec.text),
    h('p', { class: 'recommendation-due' }, h('strong', null, `${t('common.due')}: `),
      h('time', { datetime: rec.due_at, class: rec.overdue ? 'overdue' : null }, formatDate(rec.due_at))),
    rec.follow_ups.length
      ? h('div', { class: 'follow-ups' }, h('h5', null, t('audits.follow_up')),
        h('ol', { class: 'timeline' }, ...rec.follow_ups.map((step) => h('li', null,
          h('time', { datetime: step.at }, formatDateTime(step.at)), ' ',
          h('strong', null, `${tEnum('audit.recommendation_status', step.from)} → ${tEnum('audit.recommendation_status', step.to)}`),
          ' — ', userLabel(options.users, step.actor_id),
          step.note ? h('p', { class: 'note' }, step.note) : null))))
      : audit.status === 'issued' ? h('p', { class: 'help' }, t('audits.no_follow_up')) : null,
    attachmentsBlock(options, rec),
    buttons.length ? h('div', { class: 'toolbar follow-up-actions' }, ...buttons) : null);
}

// Whose file it is: the audited organisation's, or the centre's team.
function uploaderOrg(options: FindingsOptions, orgId: string): string {
  if (orgId === options.audit.auditee_org_id) return options.audit.auditee_name;
  const org = options.orgs.get(orgId);
  return org ? orgLabel(org) : t('audits.file_by_team');
}

// A recommendation's files, oldest first, each a download; and, for those allowed, a file to
// attach (PUT .../attachments?filename=, the raw body). The same file again is not stored twice.
function attachmentsBlock(options: FindingsOptions, rec: AuditRecommendation): HTMLElement | null {
  const { audit, viewer } = options;
  const files = rec.attachments ?? [];
  const allowed = canAttachToRecommendation(viewer, audit.status, rec.status);
  if (!files.length && !allowed) return null;
  const path = `${options.base}/recommendations/${encodeURIComponent(rec.id)}/attachments`;
  const list = files.length
    ? h('ul', { class: 'plain audit-attachments' }, ...files.map((a: AuditAttachment) => h('li', { 'data-attachment': a.filename },
      h('a', { href: `${path}/${encodeURIComponent(a.id)}`, download: a.filename }, a.filename),
      ` (${formatBytes(a.size)}) · ${uploaderOrg(options, a.uploaded_by_org_id)} · `,
      h('time', { datetime: a.uploaded_at }, formatDateTime(a.uploaded_at)), ' · SHA-256 ',
      h('code', { class: 'hash', title: a.sha256 }, shortHash(a.sha256)))))
    : h('p', { class: 'empty' }, t('audits.no_files'));
  let form: HTMLElement | null = null;
  if (allowed) {
    const messages = messageArea();
    const file = field(t('audits.file'), input('file'), { help: viewer.auditee ? t('audits.file_help_auditee') : t('audits.file_help_team') });
    const attach = h('form', { class: 'inline-form audit-attach', novalidate: true }, messages.el, file.el,
      formActions(submit(t('audits.attach'), { 'aria-label': t('audits.attach_to', { reference: rec.reference }) })));
    form = attach;
    attach.addEventListener('submit', async (event) => {
      event.preventDefault();
      file.setError(null);
      messages.clear();
      const chosen = (file.control as HTMLInputElement).files?.[0];
      if (!chosen) {
        file.setError(t('validation.required'));
        file.control.focus();
        return;
      }
      try {
        const stored = await busy(attach, () => upload<AuditAttachment>('PUT', path, chosen));
        // 200: the same file (name, size, SHA-256) was attached before; nothing changed.
        if (files.some((a) => a.id === stored.id)) {
          messages.show('info', t('audits.file_already', { filename: stored.filename }));
          return;
        }
        options.ctx.refresh();
      } catch (error) {
        // 413 names the size limit, 409 why nothing may be attached now.
        messages.show('error', describeRefusal(error));
      }
    });
  }
  return h('div', { class: 'audit-files' }, h('h5', null, t('audits.files')), list, form);
}

function followUpLabel(action: FollowUpAction): string {
  switch (action.action) {
    case 'progress': return t('audits.follow_progress');
    case 'implemented': return t('audits.follow_implemented');
    case 'verify': return t('audits.follow_verify');
    case 'send_back': return t('audits.follow_send_back');
    case 'accept_risk': return t('audits.follow_accept_risk');
    default: return t('audits.follow_reopen');
  }
}

function followUpHelp(action: FollowUpAction): string {
  switch (action.action) {
    case 'progress': return t('audits.follow_progress_help');
    case 'implemented': return t('audits.follow_implemented_help');
    case 'verify': return t('audits.follow_verify_help');
    case 'send_back': return t('audits.follow_send_back_help');
    case 'accept_risk': return t('audits.follow_accept_risk_help');
    default: return t('audits.follow_reopen_help');
  }
}

// One follow-up step with its note (POST .../follow-ups).
function followUpDialog(options: FindingsOptions, rec: AuditRecommendation, action: FollowUpAction): void {
  const messages = messageArea();
  const note = field(t('audits.follow_note'), textarea({ rows: 4, maxlength: AUDIT_LIMITS.text }), { required: action.noteRequired, help: followUpHelp(action) });
  const form = h('form', { novalidate: true }, messages.el,
    h('p', { class: 'prose' }, rec.text), note.el, formActions(submit(followUpLabel(action))));
  const d = dialog(`${rec.reference}: ${followUpLabel(action)}`, form, { wide: true });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    note.setError(null);
    const text = note.control.value.trim();
    if (action.noteRequired && !text) {
      note.setError(t('validation.required'));
      note.control.focus();
      return;
    }
    try {
      await busy(form, () => post(`${options.base}/recommendations/${encodeURIComponent(rec.id)}/follow-ups`,
        { status: action.to, ...(text ? { note: note.control.value } : {}) }));
      d.close();
      options.ctx.refresh();
    } catch (error) {
      messages.show('error', describeRefusal(error));
    }
  });
  d.open();
}

function showErrors(errors: Errors, fields: Record<string, Field<HTMLElement>>): boolean {
  const names = Object.keys(errors);
  for (const [name, error] of Object.entries(errors)) fields[name]?.setError(t(error.key, error.params));
  if (names.length) fields[names[0]]?.control.focus();
  return names.length > 0;
}

// Writing a finding against a control in scope, or changing one (the same fields).
function findingDialog(options: FindingsOptions, finding: AuditFinding | null): void {
  const messages = messageArea();
  const controls: [string, string][] = options.controls.map((c) => [c.control_id, `${controlName(c)} ${c.title} — ${tEnum('audit.result', c.result)}`]);
  const control = field(t('audits.finding_control_field'), select([['', t('common.choose')], ...controls], finding?.control_id ?? ''), { required: true, help: t('audits.finding_control_help') });
  const title = field(t('common.title'), input('text', { maxlength: AUDIT_LIMITS.title, value: finding?.title ?? '' }), { required: true });
  const description = field(t('audits.finding_description'), textarea({ rows: 5, maxlength: AUDIT_LIMITS.text }), { help: t('audits.finding_description_help') });
  description.control.value = finding?.description ?? '';
  const risk = field(t('audits.risk'), select(values('audit.risk').map((v): [string, string] => [v, tEnum('audit.risk', v)]), finding?.risk ?? 'moderate'), { required: true });
  const fields: Record<string, Field<HTMLElement>> = { control_id: control, title, description, risk };
  const form = h('form', { novalidate: true }, messages.el, control.el, title.el, description.el, risk.el,
    formActions(submit(finding ? t('common.save') : t('audits.add_finding_submit'))));
  const d = dialog(finding ? t('audits.edit_finding_title', { reference: finding.reference }) : t('audits.add_finding'), form, { wide: true });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    Object.values(fields).forEach((f) => f.setError(null));
    const { errors, body } = validateFinding({
      control_id: control.control.value, title: title.control.value, description: description.control.value, risk: risk.control.value,
    });
    if (showErrors(errors, fields)) return;
    try {
      await busy(form, () => (finding
        ? patch(`${options.base}/findings/${encodeURIComponent(finding.id)}`, body)
        : post(`${options.base}/findings`, body)));
      d.close();
      options.ctx.refresh();
    } catch (error) {
      messages.show('error', describeRefusal(error));
      if (error instanceof ApiError && error.field) fields[error.field]?.setError(error.message);
    }
  });
  d.open();
}

// A recommendation about a finding (text and due date), a change of one while the report is
// written, or, once it is issued, a lead's new due date (the text is what was issued).
function recommendationDialog(options: FindingsOptions, finding: AuditFinding, rec: AuditRecommendation | null): void {
  const messages = messageArea();
  const tz = timeZone();
  const issued = options.audit.status === 'issued';
  const text = issued ? null : field(t('audits.recommendation_text'), textarea({ rows: 5, maxlength: AUDIT_LIMITS.text }), { required: true, help: t('audits.recommendation_text_help') });
  if (text) text.control.value = rec?.text ?? '';
  const due = field(t('common.due'), input('date', { value: rec ? dayInZone(rec.due_at, tz) : '' }), { required: true, help: t('audits.due_help', { zone: tz }) });
  const fields: Record<string, Field<HTMLElement>> = { due_at: due, ...(text ? { text } : {}) };
  const form = h('form', { novalidate: true }, messages.el,
    h('p', { class: 'help' }, t('audits.recommendation_for', { finding: `${finding.reference} ${finding.title}` })),
    rec && issued ? h('p', { class: 'prose' }, rec.text) : null,
    text?.el, due.el,
    formActions(submit(rec ? t('common.save') : t('audits.add_recommendation_submit'))));
  const title = !rec ? t('audits.add_recommendation') : issued ? t('audits.move_due_of', { reference: rec.reference }) : t('audits.edit_recommendation_title', { reference: rec.reference });
  const d = dialog(title, form, { wide: true });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    Object.values(fields).forEach((f) => f.setError(null));
    const { errors, body } = validateRecommendation({ text: text ? text.control.value : null, due: due.control.value }, tz, rec === null);
    if (showErrors(errors, fields)) return;
    try {
      await busy(form, () => (rec
        ? patch(`${options.base}/recommendations/${encodeURIComponent(rec.id)}`, body)
        : post(`${options.base}/findings/${encodeURIComponent(finding.id)}/recommendations`, body)));
      d.close();
      options.ctx.refresh();
    } catch (error) {
      messages.show('error', describeRefusal(error));
      if (error instanceof ApiError && error.field) fields[error.field]?.setError(error.message);
    }
  });
  d.open();
}
