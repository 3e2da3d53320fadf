// The JSON API client: every request of the console goes through `api`.
//
// The session is the HttpOnly cookie set at sign-in; scripts never see it. What they do see is
// the CSRF token from the login answer and GET /auth/me, sent as X-CSRF-Token with every
// state-changing request. Errors arrive as {"error":{"status","code","message","field"}} and
// become ApiError, whose `describe` gives the user a translated summary plus the server's own
// words and the offending field.
import { t } from './i18n';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field: string | null = null,
    readonly retryAfter: number | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ListPage<T> {
  items: T[];
  next_cursor: string | null;
}

let csrfToken = '';
let unauthorizedHandler: (() => void) | null = null;

export function setCsrfToken(token: string | null | undefined): void {
  csrfToken = token ?? '';
}

// Called when a request other than sign-in answers 401: the session ended.
export function onUnauthorized(handler: () => void): void {
  unauthorizedHandler = handler;
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}${path.includes('?') ? '&' : '?'}${text}` : path;
}

interface RequestOptions {
  query?: Query;
  // A raw body (attachments) with its content type instead of JSON.
  raw?: { body: Blob | ArrayBuffer; contentType: string };
  // Do not call the unauthorized handler (sign-in, the first /auth/me).
  quiet401?: boolean;
  // The answer's body as a Blob (a file to save) instead of JSON; errors are read as usual.
  blob?: boolean;
}

export async function api<T = unknown>(method: string, path: string, body?: unknown,
                                       options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  let payload: BodyInit | undefined;
  if (options.raw) {
    headers['Content-Type'] = options.raw.contentType || 'application/octet-stream';
    payload = options.raw.body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(withQuery(path, options.query), {
      method,
      headers,
      body: payload,
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'network', t('error.network'));
  }
  if (response.status === 204) return undefined as T;
  if (options.blob && response.ok) return (await response.blob()) as T;
  const text = await response.text();
  let json: unknown = undefined;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  if (!response.ok) {
    const error = (json as { error?: { code?: string; message?: string; field?: string } } | undefined)?.error;
    const retry = Number(response.headers.get('Retry-After'));
    const apiError = new ApiError(response.status, error?.code ?? 'http_error',
      error?.message ?? response.statusText, error?.field ?? null,
      Number.isFinite(retry) && retry > 0 ? retry : null);
    if (response.status === 401 && !options.quiet401 && unauthorizedHandler) unauthorizedHandler();
    throw apiError;
  }
  return json as T;
}

export const get = <T>(path: string, query?: Query) => api<T>('GET', path, undefined, { query });
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, body ?? {});
export const patch = <T>(path: string, body: unknown) => api<T>('PATCH', path, body);
export const put = <T>(path: string, body: unknown) => api<T>('PUT', path, body);
export const del = <T>(path: string) => api<T>('DELETE', path);

// A file the user chose, sent as the raw body with its own type (application/octet-stream when
// the browser knows none) and its name as ?filename=.
export function upload<T>(method: 'POST' | 'PUT', path: string, file: Blob & { name: string }): Promise<T> {
  return api<T>(method, path, undefined, {
    query: { filename: file.name },
    raw: { body: file, contentType: file.type || 'application/octet-stream' },
  });
}

// A one-line explanation for people: what kind of failure (translated), then what the server
// said, naming the field when there is one.
export function describe(error: unknown): string {
  if (error instanceof ApiError) {
    const kind = errorKind(error);
    const detail = error.message && error.code !== 'network' ? error.message : '';
    const field = error.field ? t('error.field', { field: error.field }) : '';
    let text = t(kind);
    if (error.status === 429 && error.retryAfter) text += ' ' + t('error.retry_after', { seconds: error.retryAfter });
    return [text, field, detail].filter(Boolean).join(' — ');
  }
  if (error instanceof Error) return `${t('error.unexpected')} — ${error.message}`;
  return t('error.unexpected');
}

// A refusal because of the object's state (409: a report that cannot be issued yet, a file
// imported already) is explained by the server's own words; "reload and try again" would
// mislead. Everything else is described as usual.
export function describeRefusal(error: unknown): string {
  if (error instanceof ApiError && error.status === 409 && error.message) return t('validation.server', { message: error.message });
  return describe(error);
}

export function errorKind(error: ApiError): string {
  if (error.code === 'network') return 'error.network';
  if (error.code === 'csrf_token_invalid') return 'error.csrf';
  if (error.code === 'detection_off') return 'error.detection_off';
  switch (error.status) {
    case 400: return 'error.400';
    case 401: return error.code === 'invalid_credentials' ? 'error.credentials' : 'error.401';
    case 403: return error.code === 'account_disabled' ? 'error.disabled' : 'error.403';
    case 404: return 'error.404';
    case 409: return 'error.409';
    case 413: return 'error.413';
    case 415: return 'error.400';
    case 429: return 'error.429';
    case 503: return 'error.503';
    default: return error.status >= 500 ? 'error.500' : 'error.unexpected';
  }
}

// Every page of a list, up to `max` items (for small reference lists: organisations, users).
export async function getAll<T>(path: string, query: Query = {}, max = 1000): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const page: ListPage<T> = await get<ListPage<T>>(path, { ...query, limit: 200, cursor });
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}
