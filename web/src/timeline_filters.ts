// An investigation's timeline: its filters as they are kept in the page's address and sent to
// GET /cases/{id}/timeline (kind as a comma list, host, technique, q), the addresses of its CSV
// and JSON Lines exports with the same filters, and the checks of the "add an entry" form
// (src/hub/case_timeline.cpp). Pure functions, tested in timeline_filters.test.ts.
import { wallTimeToUtc } from './format';
import type { Errors } from './incident_validation';
import { LIMITS } from './case_flow';

export const TIMELINE_KINDS = ['event', 'alert', 'incident', 'evidence', 'action', 'finding', 'note'] as const;
// The kinds people write; alerts and events also come from imports, incidents, alerts and
// evidence from the case's links and its evidence.
export const WRITABLE_TIMELINE_KINDS = ['event', 'action', 'finding', 'note'] as const;

const TECHNIQUE = /^T\d{4}(\.\d{3})?$/;

export interface TimelineFilters {
  kinds: string[];
  host: string;
  technique: string;
  q: string;
}

export const NO_FILTERS: TimelineFilters = { kinds: [], host: '', technique: '', q: '' };

// "T1059.001" from " t1059.001 "; null when it is not an ATT&CK technique id.
export function normalizeTechnique(text: string): string | null {
  const value = text.trim().toUpperCase();
  return TECHNIQUE.test(value) ? value : null;
}

// The filters from the page's address; unknown kinds are dropped, the order of TIMELINE_KINDS
// kept, each kind once.
export function filtersFromQuery(query: URLSearchParams): TimelineFilters {
  const asked = (query.get('kind') ?? '').split(',').map((k) => k.trim());
  return {
    kinds: TIMELINE_KINDS.filter((k) => asked.includes(k)),
    host: (query.get('host') ?? '').trim(),
    technique: (query.get('technique') ?? '').trim(),
    q: (query.get('q') ?? '').trim(),
  };
}

// The API's query (also what the address keeps): empty filters are left out; every kind chosen
// is the same as none.
export function timelineQuery(filters: TimelineFilters): Record<string, string> {
  const query: Record<string, string> = {};
  const kinds = TIMELINE_KINDS.filter((k) => filters.kinds.includes(k));
  if (kinds.length && kinds.length < TIMELINE_KINDS.length) query.kind = kinds.join(',');
  const host = filters.host.trim();
  if (host) query.host = host;
  const technique = filters.technique.trim();
  if (technique) query.technique = normalizeTechnique(technique) ?? technique;
  const q = filters.q.trim();
  if (q) query.q = q;
  return query;
}

// The problems of the filters the server would refuse, keyed by the query's names.
export function validateFilters(filters: TimelineFilters): Errors {
  const errors: Errors = {};
  if (filters.technique.trim() && !normalizeTechnique(filters.technique)) {
    errors.technique = { key: 'validation.technique', params: { value: filters.technique.trim() } };
  }
  if ([...filters.host.trim()].length > 500) errors.host = { key: 'validation.too_long', params: { max: 500 } };
  if ([...filters.q.trim()].length > 200) errors.q = { key: 'validation.too_long', params: { max: 200 } };
  return errors;
}

// The download of the filtered timeline: format=csv (Timesketch's CSV columns first) or jsonl.
export function exportHref(caseId: string, filters: TimelineFilters, format: 'csv' | 'jsonl'): string {
  const params = new URLSearchParams({ ...timelineQuery(filters), format });
  return `/api/v1/cases/${encodeURIComponent(caseId)}/timeline?${params.toString()}`;
}

export interface TimelineEntryValues {
  at: string;  // datetime-local, in the user's time zone
  kind: string;
  title: string;
  detail: string;
  host: string;
  account: string;
  source: string;
  techniques: string;  // comma or line separated
}

// Errors keyed by the API's field names, and the body of POST /cases/{id}/timeline.
export function validateEntry(values: TimelineEntryValues, tz: string): { errors: Errors; body: Record<string, unknown> } {
  const errors: Errors = {};
  const body: Record<string, unknown> = {};
  if (!values.at.trim()) {
    errors.at = { key: 'validation.required' };
  } else {
    const at = wallTimeToUtc(values.at.trim(), tz);
    if (!at) errors.at = { key: 'validation.datetime' };
    else body.at = at;
  }
  if (!(WRITABLE_TIMELINE_KINDS as readonly string[]).includes(values.kind)) errors.kind = { key: 'validation.required' };
  else body.kind = values.kind;
  const title = values.title.trim();
  if (!title) errors.title = { key: 'validation.required' };
  else if ([...title].length > LIMITS.entryTitle) errors.title = { key: 'validation.too_long', params: { max: LIMITS.entryTitle } };
  else body.title = title;
  if (values.detail.trim()) {
    if ([...values.detail].length > LIMITS.text) errors.detail = { key: 'validation.too_long', params: { max: LIMITS.text } };
    else body.detail = values.detail;
  }
  for (const key of ['host', 'account', 'source'] as const) {
    const value = values[key].trim();
    if (!value) continue;
    if ([...value].length > LIMITS.entryField) errors[key] = { key: 'validation.too_long', params: { max: LIMITS.entryField } };
    else body[key] = value;
  }
  const techniques: string[] = [];
  for (const item of values.techniques.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean)) {
    const id = normalizeTechnique(item);
    if (!id) {
      errors.techniques = { key: 'validation.technique', params: { value: item } };
      break;
    }
    if (!techniques.includes(id)) techniques.push(id);
  }
  if (!errors.techniques && techniques.length > LIMITS.techniques) errors.techniques = { key: 'validation.too_many', params: { max: LIMITS.techniques } };
  else if (techniques.length) body.techniques = techniques;
  return { errors, body };
}

// Where a linked entry leads: its alert or incident, or the item of evidence on the case's own
// page; null for written and imported entries ("alert:ID", "incident:ID", "evidence:ID").
export function linkedEntryHref(caseId: string, entryId: string): string | null {
  const match = /^(alert|incident|evidence):([0-9a-fA-F-]+)$/.exec(entryId);
  if (!match) return null;
  const [, type, id] = match;
  if (type === 'evidence') return `/cases/${encodeURIComponent(caseId)}?evidence=${encodeURIComponent(id)}`;
  return `/${type === 'alert' ? 'alerts' : 'incidents'}/${encodeURIComponent(id)}`;
}
