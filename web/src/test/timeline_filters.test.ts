import { describe, expect, it } from 'vitest';
import {
  exportHref, filtersFromQuery, linkedEntryHref, normalizeTechnique, NO_FILTERS, timelineQuery, validateEntry,
  validateFilters, TIMELINE_KINDS, type TimelineEntryValues,
} from '../timeline_filters';

describe('timeline filters', () => {
  it('reads the address, keeping known kinds in their order', () => {
    const filters = filtersFromQuery(new URLSearchParams('kind=note,bogus,event,note&host=%20fs01%20&technique=t1059&q=psexec'));
    expect(filters).toEqual({ kinds: ['event', 'note'], host: 'fs01', technique: 't1059', q: 'psexec' });
    expect(filtersFromQuery(new URLSearchParams(''))).toEqual(NO_FILTERS);
  });

  it('builds the API query: kinds as a comma list, the technique normalised, empty filters left out', () => {
    expect(timelineQuery({ kinds: ['finding', 'event'], host: ' fs01 ', technique: ' t1059.001 ', q: '' }))
      .toEqual({ kind: 'event,finding', host: 'fs01', technique: 'T1059.001' });
    expect(timelineQuery(NO_FILTERS)).toEqual({});
  });

  it('sends no kind filter when every kind is chosen', () => {
    expect(timelineQuery({ ...NO_FILTERS, kinds: [...TIMELINE_KINDS] })).toEqual({});
  });

  it('round-trips through the address', () => {
    const filters = { kinds: ['alert', 'finding'], host: 'ws-12', technique: 'T1078', q: 'lateral movement' };
    const params = new URLSearchParams(timelineQuery(filters));
    expect(filtersFromQuery(params)).toEqual(filters);
  });

  it('refuses what the server would', () => {
    expect(validateFilters({ ...NO_FILTERS, technique: 'psexec' })).toEqual({ technique: { key: 'validation.technique', params: { value: 'psexec' } } });
    expect(validateFilters({ ...NO_FILTERS, q: 'x'.repeat(201) })).toEqual({ q: { key: 'validation.too_long', params: { max: 200 } } });
    expect(validateFilters({ ...NO_FILTERS, technique: 'T1059' })).toEqual({});
  });

  it('normalises technique ids', () => {
    expect(normalizeTechnique(' t1003.001 ')).toBe('T1003.001');
    expect(normalizeTechnique('T10')).toBeNull();
  });

  it('links the exports with the same filters', () => {
    expect(exportHref('c-1', { kinds: ['note'], host: '', technique: '', q: 'a&b' }, 'csv'))
      .toBe('/api/v1/cases/c-1/timeline?kind=note&q=a%26b&format=csv');
    expect(exportHref('c-1', NO_FILTERS, 'jsonl')).toBe('/api/v1/cases/c-1/timeline?format=jsonl');
  });

  it('leads linked entries to their alert, incident or item of evidence', () => {
    expect(linkedEntryHref('c-1', 'alert:01a2-ff')).toBe('/alerts/01a2-ff');
    expect(linkedEntryHref('c-1', 'incident:01a2-ff')).toBe('/incidents/01a2-ff');
    expect(linkedEntryHref('c-1', 'evidence:01a2-ff')).toBe('/cases/c-1?evidence=01a2-ff');
    expect(linkedEntryHref('c-1', '01a2-ff')).toBeNull();
  });
});

describe('writing a timeline entry', () => {
  const entry: TimelineEntryValues = {
    at: '2027-01-15T17:00:42', kind: 'finding', title: ' Admin logged in from 203.0.113.50 ', detail: '', host: ' fs01 ',
    account: '', source: 'Security.evtx 4624', techniques: 't1078, T1078 ,T1021.002',
  };

  it('builds the API body in UTC to the second, techniques normalised once each', () => {
    const { errors, body } = validateEntry(entry, 'Asia/Tokyo');
    expect(errors).toEqual({});
    expect(body).toEqual({
      at: '2027-01-15T08:00:42.000Z', kind: 'finding', title: 'Admin logged in from 203.0.113.50', host: 'fs01',
      source: 'Security.evtx 4624', techniques: ['T1078', 'T1021.002'],
    });
  });

  it('names what is missing or wrong', () => {
    const { errors } = validateEntry({ ...entry, at: '', kind: 'alert', title: '', techniques: 'T1078, lateral' }, 'UTC');
    expect(errors).toEqual({
      at: { key: 'validation.required' },
      kind: { key: 'validation.required' },
      title: { key: 'validation.required' },
      techniques: { key: 'validation.technique', params: { value: 'lateral' } },
    });
    expect(validateEntry({ ...entry, host: 'h'.repeat(501) }, 'UTC').errors.host).toEqual({ key: 'validation.too_long', params: { max: 500 } });
  });
});
