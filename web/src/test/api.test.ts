import { afterEach, describe, expect, it, vi } from 'vitest';
import { api, ApiError, describe as describeError, describeRefusal, onUnauthorized, setCsrfToken, upload, withQuery } from '../api';

interface Call { url: string; init: RequestInit }

function stubFetch(status: number, body: unknown, headers: Record<string, string> = {}): Call[] {
  const calls: Call[] = [];
  vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
    calls.push({ url, init });
    const text = body === undefined ? '' : JSON.stringify(body);
    return new Response(status === 204 ? null : text, { status, headers });
  });
  return calls;
}

afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken('');
});

describe('the API client', () => {
  it('sends the CSRF token on writes only', async () => {
    setCsrfToken('tok-1');
    const calls = stubFetch(200, { ok: true });
    await api('GET', '/api/v1/incidents');
    await api('POST', '/api/v1/incidents', { title: 'x' });
    const headers = calls.map((c) => c.init.headers as Record<string, string>);
    expect(headers[0]['X-CSRF-Token']).toBeUndefined();
    expect(headers[1]['X-CSRF-Token']).toBe('tok-1');
    expect(headers[1]['Content-Type']).toBe('application/json');
    expect(calls[1].init.body).toBe('{"title":"x"}');
    expect(calls[1].init.credentials).toBe('same-origin');
  });

  it('uploads a file as the raw body with its name and type', async () => {
    setCsrfToken('tok-1');
    const calls = stubFetch(201, { id: 'a1' });
    const typed = new File(['proof'], 'roster 2027.pdf', { type: 'application/pdf' });
    await expect(upload('PUT', '/api/v1/audits/x/recommendations/r/attachments', typed)).resolves.toEqual({ id: 'a1' });
    expect(calls[0].url).toBe('/api/v1/audits/x/recommendations/r/attachments?filename=roster+2027.pdf');
    expect(calls[0].init.method).toBe('PUT');
    const headers = calls[0].init.headers as Record<string, string>;
    expect(headers['Content-Type']).toBe('application/pdf');
    expect(headers['X-CSRF-Token']).toBe('tok-1');
    expect(calls[0].init.body).toBe(typed);
    await upload('POST', '/api/v1/incidents/i/attachments', new File(['x'], 'notes'));
    expect((calls[1].init.headers as Record<string, string>)['Content-Type']).toBe('application/octet-stream');
  });

  it('turns the error envelope into an ApiError naming the field', async () => {
    stubFetch(400, { error: { status: 400, code: 'invalid_request', message: 'point_of_contact.email is not an e-mail address', field: 'point_of_contact.email' } });
    const error = await api('POST', '/api/v1/incidents', {}).catch((e) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 400, code: 'invalid_request', field: 'point_of_contact.email' });
    expect(describeError(error)).toBe('The request was not accepted — field: point_of_contact.email — point_of_contact.email is not an e-mail address');
  });

  it('explains a lockout with its Retry-After', async () => {
    stubFetch(429, { error: { status: 429, code: 'too_many_attempts', message: 'locked' } }, { 'Retry-After': '30' });
    const error = await api('POST', '/api/v1/auth/login', {}, { quiet401: true }).catch((e) => e);
    expect(describeError(error)).toContain('Try again in 30 s.');
  });

  it('reports an ended session once, except where it is expected', async () => {
    const handler = vi.fn();
    onUnauthorized(handler);
    stubFetch(401, { error: { status: 401, code: 'unauthenticated', message: 'log in' } });
    await api('GET', '/api/v1/alerts').catch(() => {});
    await api('GET', '/api/v1/auth/me', undefined, { quiet401: true }).catch(() => {});
    expect(handler).toHaveBeenCalledTimes(1);
  });

  it('handles empty answers and answers that are not JSON', async () => {
    stubFetch(204, undefined);
    await expect(api('DELETE', '/api/v1/tokens/x')).resolves.toBeUndefined();
    vi.stubGlobal('fetch', async () => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }));
    const error = await api('GET', '/api/v1/alerts').catch((e) => e);
    expect(error).toMatchObject({ status: 502, code: 'http_error' });
  });

  it('hands a file over as a Blob, and its refusal as an ApiError', async () => {
    vi.stubGlobal('fetch', async () => new Response('raw evidence bytes', { status: 200, headers: { 'Content-Type': 'text/plain' } }));
    const blob = await api<Blob>('GET', '/api/v1/cases/c/evidence/e/content', undefined, { query: { purpose: 'lab' }, blob: true });
    expect(blob).toBeInstanceOf(Blob);
    expect(await blob.text()).toBe('raw evidence bytes');
    stubFetch(400, { error: { status: 400, code: 'invalid_request', message: 'a download states its purpose', field: 'purpose' } });
    const error = await api('GET', '/api/v1/cases/c/evidence/e/content', undefined, { blob: true }).catch((e) => e);
    expect(error).toMatchObject({ status: 400, field: 'purpose', message: 'a download states its purpose' });
  });

  it('builds query strings without empty values', () => {
    expect(withQuery('/api/v1/alerts', { status: 'new', level: '', org_id: undefined, limit: 50 })).toBe('/api/v1/alerts?status=new&limit=50');
    expect(withQuery('/x?a=1', { b: 'c d' })).toBe('/x?a=1&b=c+d');
  });

  it('explains a refusal for the object\'s state in the server\'s words alone', () => {
    const conflict = new ApiError(409, 'conflict', 'the report cannot be issued yet: finding F-001 has no recommendation');
    expect(describeRefusal(conflict)).toBe('The centre refused this: the report cannot be issued yet: finding F-001 has no recommendation');
    const invalid = new ApiError(400, 'invalid_request', 'title must not be empty', 'title');
    expect(describeRefusal(invalid)).toBe(describeError(invalid));
  });
});
