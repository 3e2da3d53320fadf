import { describe, expect, it } from 'vitest';
import { aroundHref, eventLine, NO_SEARCH, searchFromQuery, validateSearch } from '../event_search';

describe('event search', () => {
  it('reads times typed in the user zone as UTC and keeps what is empty out', () => {
    const { errors, query } = validateSearch({ ...NO_SEARCH, host: ' web1 ', from: '2026-11-20T18:00', to: '2026-11-20T19:30' }, 'Asia/Tokyo');
    expect(errors).toEqual({});
    expect(query).toEqual({ host: 'web1', from: '2026-11-20T09:00:00.000Z', to: '2026-11-20T10:30:00.000Z' });
  });

  it('refuses what the server would refuse, naming the field', () => {
    expect(validateSearch({ ...NO_SEARCH, from: '2026-11-20T10:00', to: '2026-11-20T09:00' }, 'UTC').errors.to?.key).toBe('validation.to_after_from');
    expect(validateSearch({ ...NO_SEARCH, host: 'a\nb' }, 'UTC').errors.host?.key).toBe('validation.plain_text');
    expect(validateSearch({ ...NO_SEARCH, text: '日'.repeat(90) }, 'UTC').errors.text?.key).toBe('validation.too_long');
    expect(validateSearch({ ...NO_SEARCH, text: '日'.repeat(85) }, 'UTC').errors.text).toBeUndefined();
    expect(validateSearch({ ...NO_SEARCH, from: 'soon' }, 'UTC').errors.from?.key).toBe('validation.datetime');
  });

  it('requires a window to copy events into a case', () => {
    const { errors } = validateSearch({ ...NO_SEARCH, host: 'web1' }, 'UTC', true);
    expect(Object.keys(errors)).toEqual(['from', 'to']);
  });

  it('reads the address back into the form in the user zone', () => {
    const values = searchFromQuery(new URLSearchParams('host=dc01&from=2026-11-20T09:00:00.000Z&to=bad&org_id=o1'), 'Asia/Tokyo');
    expect(values).toEqual({ host: 'dc01', from: '2026-11-20T18:00', to: '', text: '', org: 'o1' });
  });

  it('links to the hour each side of an alert, only with a host and a time', () => {
    expect(aroundHref('web1', '2026-11-20T09:30:00.000Z')).toBe(
      '/events?host=web1&from=2026-11-20T08%3A30%3A00.000Z&to=2026-11-20T10%3A30%3A00.000Z');
    expect(aroundHref('', '2026-11-20T09:30:00.000Z')).toBeNull();
    expect(aroundHref('web1', 'never')).toBeNull();
  });

  it('sums an event up in one line', () => {
    expect(eventLine('Nov 20 09:00:00 web1\n  sshd[1]:\tFailed')).toBe('Nov 20 09:00:00 web1 sshd[1]: Failed');
    expect(eventLine('x'.repeat(10), 4)).toBe('xxxx…');
  });
});
