// Searching the event store (GET /api/v1/events) and copying what was found into a case
// (POST /cases/{id}/timeline/events): the search as the page's address keeps it (times in
// UTC), the form's checks (times typed as wall-clock time in the user's zone), the window
// around an alert, and how an event is summed up in a line. Pure functions, tested in
// event_search.test.ts.
import { utcToWallTime, wallTimeToUtc } from './format';
import type { Errors } from './incident_validation';

// The server's limits (src/http/api_events.cpp).
export const EVENT_SEARCH_LIMITS = { host: 256, text: 256, copy: 200000, copyDefault: 10000 } as const;

// The form's values: from/to are datetime-local values in the user's zone.
export interface EventSearchValues {
  host: string;
  from: string;
  to: string;
  text: string;
  org: string;
}

export const NO_SEARCH: EventSearchValues = { host: '', from: '', to: '', text: '', org: '' };

const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}

// The form's values from the page's address (?host=&from=&to=&text=&org_id=, times in UTC).
export function searchFromQuery(query: URLSearchParams, tz: string): EventSearchValues {
  const wall = (key: string) => {
    const value = query.get(key);
    if (!value) return '';
    const time = new Date(value);
    return Number.isNaN(time.getTime()) ? '' : utcToWallTime(time, tz);
  };
  return {
    host: (query.get('host') ?? '').trim(),
    from: wall('from'),
    to: wall('to'),
    text: (query.get('text') ?? '').trim(),
    org: (query.get('org_id') ?? '').trim(),
  };
}

// The API's query (also what the address keeps) and the problems the server would refuse,
// keyed by the query's names. `window` makes from and to required (copying into a case).
export function validateSearch(values: EventSearchValues, tz: string, window = false): { errors: Errors; query: Record<string, string> } {
  const errors: Errors = {};
  const query: Record<string, string> = {};
  const plain = (key: 'host' | 'text', max: number) => {
    const value = values[key].trim();
    if (!value) return;
    if (byteLength(value) > max) errors[key] = { key: 'validation.too_long', params: { max } };
    else if (CONTROL.test(value)) errors[key] = { key: 'validation.plain_text' };
    else query[key] = value;
  };
  plain('host', EVENT_SEARCH_LIMITS.host);
  plain('text', EVENT_SEARCH_LIMITS.text);
  for (const key of ['from', 'to'] as const) {
    const value = values[key].trim();
    if (!value) {
      if (window) errors[key] = { key: 'validation.required' };
      continue;
    }
    const time = wallTimeToUtc(value, tz);
    if (!time) errors[key] = { key: 'validation.datetime' };
    else query[key] = time;
  }
  if (query.from && query.to && query.from >= query.to) errors.to = { key: 'validation.to_after_from' };
  const org = values.org.trim();
  if (org) query.org_id = org;
  return { errors, query };
}

// The events of a host in the hour each side of a moment (an alert's event time).
export function aroundHref(host: string, time: string, minutes = 60): string | null {
  const at = new Date(time).getTime();
  if (!host || Number.isNaN(at)) return null;
  const params = new URLSearchParams({
    host,
    from: new Date(at - minutes * 60_000).toISOString(),
    to: new Date(at + minutes * 60_000).toISOString(),
  });
  return `/events?${params.toString()}`;
}

// An event in one line: its blanks folded, at most `max` characters.
export function eventLine(payload: string, max = 300): string {
  const line = payload.replace(/\s+/g, ' ').trim();
  const chars = [...line];
  return chars.length > max ? `${chars.slice(0, max).join('')}…` : line;
}
