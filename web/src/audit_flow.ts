// Audits as the server enforces them (src/hub/audits.cpp): the moves of an audit's lifecycle,
// who may take which follow-up step on a recommendation or attach a file to it, the checks of the audit, finding and
// recommendation forms before they are sent, and how a checklist is grouped and counted. Pure
// functions, so the rules can be read and tested in one place (audit_flow.test.ts); the pages
// only draw them. Who is on the team and what a role allows is access.ts's.
import { wallTimeToUtc, utcToWallTime } from './format';
import type { Errors } from './incident_validation';

// The markings an audit may carry, the strictest first; the server's default is amber+strict.
export const AUDIT_TLPS = ['red', 'amber+strict', 'amber'] as const;
export const AUDIT_DEFAULT_TLP = 'amber+strict';

// The organisations the centre audits (hub::OpenAudit refuses the centre and partner CERTs).
export const AUDITABLE_ORG_TYPES = ['ministry', 'independent_agency', 'critical_infrastructure', 'local_government'];

export const AUDIT_LIMITS = {
  title: 200,
  text: 20000,       // objectives, notes, descriptions, recommendations, conclusions
  controlId: 200,
  scope: 20000,      // controls in one scope (STANDARD_CONTROLS_MAX)
};

// ---- the lifecycle ----------------------------------------------------------------------------

export interface AuditMove {
  to: 'fieldwork' | 'reporting' | 'issued' | 'closed' | 'cancelled';
  // The button's and dialog's words (audits.move_*).
  action: 'start_fieldwork' | 'start_reporting' | 'back_to_fieldwork' | 'issue' | 'close' | 'cancel';
  // Closing takes the conclusion, cancelling the reason; the other notes are optional.
  noteRequired: boolean;
}

const CANCEL: AuditMove = { to: 'cancelled', action: 'cancel', noteRequired: true };

// planning -> fieldwork <-> reporting -> issued -> closed; cancelled from the first three
// (hub::AllowedTransition). Issuing and closing may still be refused (409) for what is missing.
export function auditMoves(status: string): AuditMove[] {
  switch (status) {
    case 'planning':
      return [{ to: 'fieldwork', action: 'start_fieldwork', noteRequired: false }, CANCEL];
    case 'fieldwork':
      return [{ to: 'reporting', action: 'start_reporting', noteRequired: false }, CANCEL];
    case 'reporting':
      return [
        { to: 'issued', action: 'issue', noteRequired: false },
        { to: 'fieldwork', action: 'back_to_fieldwork', noteRequired: false },
        CANCEL,
      ];
    case 'issued':
      return [{ to: 'closed', action: 'close', noteRequired: true }];
    default:
      return [];
  }
}

// ---- follow-up of recommendations -------------------------------------------------------------

// Who looks at a recommendation: the audited organisation's administrator, or a member of the
// team with their role (null: neither, e.g. an organisation's reporter, who never gets here).
export interface FollowUpViewer {
  auditee: boolean;
  teamRole: string | null;
}

export interface FollowUpAction {
  to: 'in_progress' | 'implemented' | 'verified' | 'risk_accepted';
  // The button's words (audits.follow_*).
  action: 'progress' | 'implemented' | 'verify' | 'send_back' | 'accept_risk' | 'reopen';
  noteRequired: boolean;
}

// The steps hub::FollowUpRecommendation allows this viewer on a recommendation in `status`,
// only while the audit is issued:
// - the audited organisation's administrators report progress (open|in_progress -> in_progress;
//   the note is optional only for the first report, from open) or the recommendation
//   implemented (open|in_progress -> implemented, with a note);
// - the team's leads and members verify an implementation or send it back to in_progress;
// - leads accept the risk of an open, in-progress or implemented one, or reopen a verified or
//   accepted one (back to in_progress).
// Every step but the first progress report takes a note.
export function followUpActions(viewer: FollowUpViewer, auditStatus: string, status: string): FollowUpAction[] {
  if (auditStatus !== 'issued') return [];
  const actions: FollowUpAction[] = [];
  const waiting = status === 'open' || status === 'in_progress';
  if (viewer.auditee) {
    if (waiting) {
      actions.push({ to: 'in_progress', action: 'progress', noteRequired: status !== 'open' });
      actions.push({ to: 'implemented', action: 'implemented', noteRequired: true });
    }
    return actions;
  }
  const lead = viewer.teamRole === 'lead';
  const worker = lead || viewer.teamRole === 'member';
  if (worker && status === 'implemented') {
    actions.push({ to: 'verified', action: 'verify', noteRequired: true });
    actions.push({ to: 'in_progress', action: 'send_back', noteRequired: true });
  }
  if (lead && (waiting || status === 'implemented')) {
    actions.push({ to: 'risk_accepted', action: 'accept_risk', noteRequired: true });
  }
  if (lead && (status === 'verified' || status === 'risk_accepted')) {
    actions.push({ to: 'in_progress', action: 'reopen', noteRequired: true });
  }
  return actions;
}

// Attaching a file to a recommendation (hub::AttachToRecommendation):
// - the audited organisation's administrators, as proof, while the report is issued and the
//   recommendation is neither verified nor accepted;
// - the team's leads and members, as working papers, in fieldwork, reporting and once issued
//   (never in planning, nor once the audit is closed or cancelled).
// Readers and anyone else attach nothing.
export function canAttachToRecommendation(viewer: FollowUpViewer, auditStatus: string, status: string): boolean {
  if (viewer.auditee) return auditStatus === 'issued' && status !== 'verified' && status !== 'risk_accepted';
  const worker = viewer.teamRole === 'lead' || viewer.teamRole === 'member';
  return worker && ['fieldwork', 'reporting', 'issued'].includes(auditStatus);
}

// A SHA-256 as shown beside a file: its first 12 hex digits (the whole value goes in a title).
export function shortHash(sha256: string): string {
  return sha256.length > 12 ? `${sha256.slice(0, 12)}…` : sha256;
}

// ---- what is owed across audits ----------------------------------------------------------------

// The recommendations list's filters as kept in the address (rec_status, rec_overdue, rec_org),
// and the query of GET /api/v1/audits/recommendations they make. With no status chosen the list
// shows what is still awaited (open and in progress); 'any' lifts that.
export const OWED_DEFAULT_STATUS = 'open,in_progress';

export function owedQuery(filters: { status?: string | null; overdue?: string | null; org?: string | null }, limit = 200): Record<string, string | number> {
  const query: Record<string, string | number> = { limit };
  const status = filters.status || OWED_DEFAULT_STATUS;
  if (status !== 'any') query.status = status;
  if (filters.overdue === 'true') query.overdue = 'true';
  if (filters.org) query.auditee_org_id = filters.org;
  return query;
}

// ---- scope ------------------------------------------------------------------------------------

// Control ids typed or pasted as a list: separated by commas, spaces, semicolons or lines,
// each once, in the order given ("ac-1, ac-2\nac-2(1)" -> ["ac-1", "ac-2", "ac-2(1)"]).
export function parseControlIds(text: string): string[] {
  const seen = new Set<string>();
  for (const id of text.split(/[\s,;]+/)) {
    if (id) seen.add(id);
  }
  return [...seen];
}

// An OSCAL profile file's text as the API takes it: the whole document, {"profile": {...}}.
export function parseProfile(text: string): { profile: Record<string, unknown> } | { error: string } {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return { error: 'audits.profile_not_json' };
  }
  const inner = document && typeof document === 'object' && !Array.isArray(document)
    ? (document as Record<string, unknown>).profile : undefined;
  if (!inner || typeof inner !== 'object' || Array.isArray(inner)) return { error: 'audits.profile_not_profile' };
  return { profile: document as Record<string, unknown> };
}

// ---- forms ------------------------------------------------------------------------------------

function length(text: string): number {
  return [...text].length;
}

// A day typed in a date input ("2027-03-31") as the end of that day in `tz`, in UTC: a due date
// or a planned end means "by the end of the day" wherever the reader is.
export function endOfDayUtc(day: string, tz: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return null;
  return wallTimeToUtc(`${day}T23:59:59`, tz);
}

// The start of a day in `tz`, in UTC (a planned start).
export function startOfDayUtc(day: string, tz: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return null;
  return wallTimeToUtc(`${day}T00:00`, tz);
}

// An instant as the day a date input shows in `tz` ("" for none).
export function dayInZone(value: string | null | undefined, tz: string): string {
  if (!value) return '';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? '' : utcToWallTime(date, tz).slice(0, 10);
}

export interface AuditFormValues {
  title: string;
  objectives: string;
  auditee_org_id: string;
  standard_id: string;
  tlp: string;
  planned_start: string;  // date inputs, in the user's zone
  planned_end: string;
  scope: 'all' | 'list' | 'profile';
  control_ids: string;    // for 'list'
  profile_text: string | null;  // the chosen file's text, for 'profile'; null: no file chosen
  members: { user_id: string; role: string }[];
}

// Errors keyed by the API's field names, and the body of POST /api/v1/audits.
export function validateAudit(values: AuditFormValues, tz: string): { errors: Errors; body: Record<string, unknown> } {
  const errors: Errors = {};
  const body: Record<string, unknown> = {};
  const title = values.title.trim();
  if (!title) errors.title = { key: 'validation.required' };
  else if (length(title) > AUDIT_LIMITS.title) errors.title = { key: 'validation.too_long', params: { max: AUDIT_LIMITS.title } };
  else body.title = title;
  if (values.objectives.trim()) {
    if (length(values.objectives) > AUDIT_LIMITS.text) errors.objectives = { key: 'validation.too_long', params: { max: AUDIT_LIMITS.text } };
    else body.objectives = values.objectives;
  }
  if (!values.auditee_org_id) errors.auditee_org_id = { key: 'validation.required' };
  else body.auditee_org_id = values.auditee_org_id;
  if (!values.standard_id) errors.standard_id = { key: 'validation.required' };
  else body.standard_id = values.standard_id;
  if ((AUDIT_TLPS as readonly string[]).includes(values.tlp)) body.tlp = values.tlp;
  const start = values.planned_start ? startOfDayUtc(values.planned_start, tz) : null;
  const end = values.planned_end ? endOfDayUtc(values.planned_end, tz) : null;
  if (values.planned_start && !start) errors.planned_start = { key: 'validation.date' };
  if (values.planned_end && !end) errors.planned_end = { key: 'validation.date' };
  if (start) body.planned_start = start;
  if (end) body.planned_end = end;
  if (start && end && Date.parse(end) < Date.parse(start)) errors.planned_end = { key: 'validation.to_after_from' };
  if (values.scope === 'list') {
    const ids = parseControlIds(values.control_ids);
    if (!ids.length) errors.control_ids = { key: 'validation.required' };
    else if (ids.length > AUDIT_LIMITS.scope) errors.control_ids = { key: 'validation.too_many', params: { max: AUDIT_LIMITS.scope } };
    else if (ids.some((id) => length(id) > AUDIT_LIMITS.controlId)) errors.control_ids = { key: 'audits.control_id_too_long', params: { max: AUDIT_LIMITS.controlId } };
    else body.control_ids = ids;
  } else if (values.scope === 'profile') {
    if (values.profile_text === null) {
      errors.profile = { key: 'validation.required' };
    } else {
      const read = parseProfile(values.profile_text);
      if ('error' in read) errors.profile = { key: read.error };
      else body.profile = read.profile;
    }
  }
  const members = values.members.filter((m) => m.user_id && m.role);
  if (members.length) body.members = members;
  return { errors, body };
}

export interface FindingFormValues {
  control_id: string;
  title: string;
  description: string;
  risk: string;
}

// The body of POST .../findings (or PATCH: the same fields).
export function validateFinding(values: FindingFormValues): { errors: Errors; body: Record<string, unknown> } {
  const errors: Errors = {};
  const body: Record<string, unknown> = {};
  if (!values.control_id) errors.control_id = { key: 'validation.required' };
  else body.control_id = values.control_id;
  const title = values.title.trim();
  if (!title) errors.title = { key: 'validation.required' };
  else if (length(title) > AUDIT_LIMITS.title) errors.title = { key: 'validation.too_long', params: { max: AUDIT_LIMITS.title } };
  else body.title = title;
  if (length(values.description) > AUDIT_LIMITS.text) errors.description = { key: 'validation.too_long', params: { max: AUDIT_LIMITS.text } };
  else body.description = values.description;
  if (values.risk) body.risk = values.risk;
  return { errors, body };
}

export interface RecommendationFormValues {
  text: string | null;  // null: not offered (an issued report's text is fixed)
  due: string;          // a date input, in the user's zone
}

// The body of POST .../recommendations or PATCH .../recommendations/{id}. A due date in the past
// is refused for a new recommendation only: moving an existing one is the lead's decision.
export function validateRecommendation(values: RecommendationFormValues, tz: string, isNew: boolean, now = Date.now()): { errors: Errors; body: Record<string, unknown> } {
  const errors: Errors = {};
  const body: Record<string, unknown> = {};
  if (values.text !== null) {
    if (!values.text.trim()) errors.text = { key: 'validation.required' };
    else if (length(values.text) > AUDIT_LIMITS.text) errors.text = { key: 'validation.too_long', params: { max: AUDIT_LIMITS.text } };
    else body.text = values.text;
  }
  if (!values.due) {
    errors.due_at = { key: 'validation.required' };
  } else {
    const due = endOfDayUtc(values.due, tz);
    if (!due) errors.due_at = { key: 'validation.date' };
    else if (isNew && Date.parse(due) < now) errors.due_at = { key: 'audits.due_past' };
    else body.due_at = due;
  }
  return { errors, body };
}

// ---- the checklist ----------------------------------------------------------------------------

// Controls by the group they belong to, in the catalog's order (a group appears once, where its
// first control is).
export function groupControls<T extends { group: string }>(controls: T[]): { group: string; controls: T[] }[] {
  const groups = new Map<string, T[]>();
  for (const control of controls) {
    const list = groups.get(control.group);
    if (list) list.push(control);
    else groups.set(control.group, [control]);
  }
  return [...groups].map(([group, list]) => ({ group, controls: list }));
}

// The indentation class of a control: depth-0 … depth-4 (enhancements of enhancements and
// deeper share the last step).
export function depthClass(depth: number): string {
  return `depth-${Math.max(0, Math.min(4, Math.floor(depth) || 0))}`;
}

export const RESULT_ORDER = ['satisfied', 'partially_satisfied', 'not_satisfied', 'not_applicable', 'not_assessed'] as const;

// The parts of the progress bar, in a fixed order, with what is not assessed yet last.
export function progressSegments(progress: {
  controls: number; assessed: number; satisfied: number; partially_satisfied: number; not_satisfied: number; not_applicable: number;
}): { result: typeof RESULT_ORDER[number]; count: number }[] {
  const notAssessed = Math.max(0, progress.controls - progress.assessed);
  return RESULT_ORDER.map((result) => ({
    result, count: result === 'not_assessed' ? notAssessed : Math.max(0, progress[result]),
  }));
}

// Controls assessed as not (or partly) satisfied that no finding names yet: issuing the report
// needs one for each (hub::ReadyToIssue).
export function controlsNeedingFindings(controls: { control_id: string; result: string }[], findings: { control_id: string }[]): string[] {
  const named = new Set(findings.map((f) => f.control_id));
  return controls
    .filter((c) => (c.result === 'not_satisfied' || c.result === 'partially_satisfied') && !named.has(c.control_id))
    .map((c) => c.control_id);
}

// The name a control goes by: its label when the catalog gives one ("AC-2(1)"), else its id.
export function controlName(control: { control_id: string; label: string }): string {
  return control.label || control.control_id;
}
