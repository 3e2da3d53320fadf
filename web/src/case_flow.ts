// Investigations as the server enforces them (src/hub/cases.cpp, evidence.cpp): the moves of a
// case's status, what each custody action needs, the checks of the evidence and custody forms
// before they are sent, and how a chain of custody and an integrity check read to people. Pure
// functions, so the rules can be read and tested in one place (case_flow.test.ts); the pages
// only draw them.
import { wallTimeToUtc } from './format';
import type { Errors } from './incident_validation';

// The markings a case may carry, the strictest first (the server's default is red).
export const CASE_TLPS = ['red', 'amber+strict', 'amber'] as const;

export const LIMITS = {
  title: 200,
  text: 20000,        // summary, conclusion, notes, descriptions, custody purposes
  label: 200,
  field: 500,         // holder, location, method, host, seal, download purpose
  entryTitle: 500,
  entryField: 500,    // timeline host, account, source
  techniques: 100,
};

export interface CaseMove {
  to: 'open' | 'on_hold' | 'closed';
  // The button's and dialog's words: cases.move_hold, cases.move_resume, ...
  action: 'hold' | 'resume' | 'close' | 'reopen';
  // Closing takes the conclusion, reopening the reason; the other notes are optional.
  noteRequired: boolean;
}

// open <-> on_hold, open|on_hold -> closed, closed -> open (hub::TransitionCase).
export function caseMoves(status: string): CaseMove[] {
  switch (status) {
    case 'open':
      return [{ to: 'on_hold', action: 'hold', noteRequired: false }, { to: 'closed', action: 'close', noteRequired: true }];
    case 'on_hold':
      return [{ to: 'open', action: 'resume', noteRequired: false }, { to: 'closed', action: 'close', noteRequired: true }];
    case 'closed':
      return [{ to: 'open', action: 'reopen', noteRequired: true }];
    default:
      return [];
  }
}

function length(text: string): number {
  return [...text].length;
}

function hex(text: string, digits: number): boolean {
  return text.length === digits && /^[0-9a-fA-F]+$/.test(text);
}

// ---- evidence ---------------------------------------------------------------------------------

export interface EvidenceFormValues {
  label: string;
  description: string;
  kind: string;
  source_org_id: string;
  source_host: string;
  acquired_at: string;  // datetime-local, in the user's time zone
  acquired_by: string;
  acquisition_method: string;
  sha256: string;
  sha1: string;
  md5: string;
  size: string;
  holder: string;
  location: string;
  seal: string;
}

// Errors keyed by the API's field names, and the body of POST /cases/{id}/evidence (empty
// optional fields left out, hashes in lower case, the time in UTC).
export function validateEvidence(values: EvidenceFormValues, tz: string, now = Date.now()): { errors: Errors; body: Record<string, unknown> } {
  const errors: Errors = {};
  const body: Record<string, unknown> = {};
  const required = (key: keyof EvidenceFormValues, max: number) => {
    const value = values[key].trim();
    if (!value) errors[key] = { key: 'validation.required' };
    else if (length(value) > max) errors[key] = { key: 'validation.too_long', params: { max } };
    else body[key] = value;
  };
  const optional = (key: keyof EvidenceFormValues, max: number) => {
    const value = values[key].trim();
    if (!value) return;
    if (length(value) > max) errors[key] = { key: 'validation.too_long', params: { max } };
    else body[key] = value;
  };
  required('label', LIMITS.label);
  if (!values.kind) errors.kind = { key: 'validation.required' };
  else body.kind = values.kind;
  if (values.description.trim()) {
    if (length(values.description) > LIMITS.text) errors.description = { key: 'validation.too_long', params: { max: LIMITS.text } };
    else body.description = values.description;
  }
  if (values.source_org_id) body.source_org_id = values.source_org_id;
  optional('source_host', LIMITS.field);
  if (!values.acquired_at.trim()) {
    errors.acquired_at = { key: 'validation.required' };
  } else {
    const at = wallTimeToUtc(values.acquired_at.trim(), tz);
    if (!at) errors.acquired_at = { key: 'validation.datetime' };
    else if (Date.parse(at) > now + 5 * 60 * 1000) errors.acquired_at = { key: 'validation.future' };
    else body.acquired_at = at;
  }
  required('acquired_by', LIMITS.field);
  optional('acquisition_method', LIMITS.field);
  for (const [key, digits] of [['sha256', 64], ['sha1', 40], ['md5', 32]] as const) {
    const value = values[key].trim();
    if (!value) continue;
    if (!hex(value, digits)) errors[key] = { key: 'validation.hex', params: { digits } };
    else body[key] = value.toLowerCase();
  }
  const size = values.size.trim();
  if (size) {
    if (!/^\d+$/.test(size) || !Number.isSafeInteger(Number(size))) errors.size = { key: 'validation.count' };
    else body.size = Number(size);
  }
  required('holder', LIMITS.field);
  optional('location', LIMITS.field);
  optional('seal', LIMITS.field);
  return { errors, body };
}

// ---- chain of custody -------------------------------------------------------------------------

// The actions people record; acquired, content_added and accessed the centre writes itself.
export const RECORDABLE_CUSTODY_ACTIONS = ['transferred', 'checked_out', 'checked_in', 'examined', 'verified',
  'copied', 'sealed', 'unsealed', 'released', 'destroyed'] as const;

export interface CustodyNeeds {
  toHolder: boolean;  // required, and allowed only then: the action changes hands
  purpose: boolean;   // required
  seal: boolean;      // required
  sha256: 'required' | 'optional' | 'none';
}

// hub::RecordCustody's rules for one action.
export function custodyNeeds(action: string): CustodyNeeds {
  const moves = ['transferred', 'checked_out', 'checked_in', 'released'].includes(action);
  const purpose = ['checked_out', 'examined', 'copied', 'released', 'destroyed'].includes(action);
  const seal = action === 'sealed' || action === 'unsealed';
  const sha256 = action === 'verified' ? 'required' : action === 'examined' || action === 'copied' ? 'optional' : 'none';
  return { toHolder: moves, purpose, seal, sha256 };
}

// The actions that make sense for an item in `status` (the server refuses the others with 409):
// nothing after released or destroyed, checked_in only when checked out, checked_out and
// transferred only when in custody.
export function custodyActionsFor(status: string): string[] {
  if (status === 'released' || status === 'destroyed') return [];
  return RECORDABLE_CUSTODY_ACTIONS.filter((action) => {
    if (action === 'checked_in') return status === 'checked_out';
    if (action === 'checked_out' || action === 'transferred') return status !== 'checked_out';
    return true;
  });
}

export interface CustodyFormValues {
  action: string;
  at: string;  // datetime-local in the user's zone; empty: now
  to_holder: string;
  location: string;
  purpose: string;
  seal: string;
  sha256_observed: string;
}

// Errors keyed by the API's field names, and the body of POST .../custody with only the fields
// the action takes.
export function validateCustody(values: CustodyFormValues, tz: string, now = Date.now()): { errors: Errors; body: Record<string, unknown> } {
  const errors: Errors = {};
  const body: Record<string, unknown> = {};
  if (!(RECORDABLE_CUSTODY_ACTIONS as readonly string[]).includes(values.action)) {
    errors.action = { key: 'validation.required' };
    return { errors, body };
  }
  body.action = values.action;
  const needs = custodyNeeds(values.action);
  const text = (key: 'to_holder' | 'location' | 'purpose' | 'seal', isRequired: boolean, max: number) => {
    const value = values[key].trim();
    if (!value) {
      if (isRequired) errors[key] = { key: 'validation.required' };
      return;
    }
    if (length(value) > max) errors[key] = { key: 'validation.too_long', params: { max } };
    else body[key] = value;
  };
  if (values.at.trim()) {
    const at = wallTimeToUtc(values.at.trim(), tz);
    if (!at) errors.at = { key: 'validation.datetime' };
    else if (Date.parse(at) > now + 5 * 60 * 1000) errors.at = { key: 'validation.future' };
    else body.at = at;
  }
  if (needs.toHolder) text('to_holder', true, LIMITS.field);
  text('location', false, LIMITS.field);
  text('purpose', needs.purpose, LIMITS.text);
  text('seal', needs.seal, LIMITS.field);
  if (needs.sha256 !== 'none') {
    const value = values.sha256_observed.trim();
    if (!value) {
      if (needs.sha256 === 'required') errors.sha256_observed = { key: 'validation.required' };
    } else if (!hex(value, 64)) {
      errors.sha256_observed = { key: 'validation.hex', params: { digits: 64 } };
    } else {
      body.sha256_observed = value.toLowerCase();
    }
  }
  return { errors, body };
}

// The first digits of a hash, enough to compare by eye ("3f2a9c41d07e…").
export function hashPrefix(hash: string | null | undefined, digits = 12): string {
  if (!hash) return '—';
  return hash.length > digits ? `${hash.slice(0, digits)}…` : hash;
}

export const GENESIS_HASH = '0'.repeat(64);

export interface CustodyRow<E> {
  event: E;
  // The event names its predecessor's hash (the first one: all zeros). A quick look only: the
  // integrity check recomputes every hash on the server.
  linked: boolean;
  // The holder changed hands with this event.
  handover: boolean;
}

// The chain in sequence order, each event with whether it follows on from the one before.
export function custodyRows<E extends { seq: number; prev_hash: string; hash: string; holder_from: string; holder_to: string }>(events: E[]): CustodyRow<E>[] {
  const sorted = [...events].sort((a, b) => a.seq - b.seq);
  return sorted.map((event, index) => ({
    event,
    linked: index === 0 ? event.prev_hash === GENESIS_HASH : event.prev_hash === sorted[index - 1].hash,
    handover: event.holder_from !== event.holder_to,
  }));
}

export interface IntegrityLine {
  part: 'chain' | 'registration' | 'content';
  // true: intact; false: a problem; null: nothing to check (no stored file).
  ok: boolean | null;
  // The i18n key of the sentence, with its parameters; `problem` is the server's own words.
  key: string;
  params?: Record<string, string | number>;
  problem?: string;
}

// GET .../integrity as three sentences: the chain, the registration, the stored file.
export function integrityLines(result: {
  chain: { intact: boolean; events: number; first_bad_seq: number | null; problem: string | null };
  registration: { intact: boolean; problem: string | null };
  content: { stored: boolean; matches: boolean | null; sha256: string | null };
}): IntegrityLine[] {
  const lines: IntegrityLine[] = [];
  const { chain, registration, content } = result;
  lines.push(chain.intact
    ? { part: 'chain', ok: true, key: 'evidence.integrity_chain_ok', params: { events: chain.events } }
    : {
      part: 'chain', ok: false, key: chain.first_bad_seq ? 'evidence.integrity_chain_bad_at' : 'evidence.integrity_chain_bad',
      params: chain.first_bad_seq ? { seq: chain.first_bad_seq } : {}, problem: chain.problem ?? undefined,
    });
  lines.push(registration.intact
    ? { part: 'registration', ok: true, key: 'evidence.integrity_registration_ok' }
    : { part: 'registration', ok: false, key: 'evidence.integrity_registration_bad', problem: registration.problem ?? undefined });
  if (!content.stored) {
    lines.push({ part: 'content', ok: null, key: 'evidence.integrity_no_file' });
  } else if (content.matches === false) {
    lines.push({ part: 'content', ok: false, key: 'evidence.integrity_file_bad', params: { sha256: content.sha256 ?? '—' } });
  } else {
    lines.push({ part: 'content', ok: true, key: 'evidence.integrity_file_ok', params: { sha256: content.sha256 ?? '—' } });
  }
  return lines;
}

// ---- links ------------------------------------------------------------------------------------

// What to link, from an id or from the address of an incident's or alert's page pasted as it
// is ("https://yagura.example/incidents/0193…", "/alerts/0193…"). The address names the type;
// a bare id keeps the type chosen in the form. null when the text is no id.
export function linkTarget(text: string, chosenType: string): { type: string; id: string } | null {
  const value = text.trim();
  if (!value) return null;
  const path = /(?:^|\/)(incidents|alerts)\/([0-9a-fA-F-]{8,64})\/?(?:[?#].*)?$/.exec(value);
  if (path) return { type: path[1] === 'incidents' ? 'incident' : 'alert', id: path[2].toLowerCase() };
  if (/^[0-9a-fA-F-]{8,64}$/.test(value)) return { type: chosenType, id: value.toLowerCase() };
  return null;
}
