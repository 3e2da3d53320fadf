// The signed-in user and the small reference data every page needs (organisation names, and
// user names where the caller may list users; other people's names come from user_names.ts).
import { accessFor, type Access } from './access';
import { api, get, getAll, setCsrfToken, patch } from './api';
import { isLocale, setLocale, locale } from './i18n';
import { setTimeZone } from './format';
import type { Me, Organization, User } from './types';
import { userNames } from './user_names';

export interface Session {
  me: Me;
  access: Access;
}

let session: Session | null = null;
let organizations: Map<string, Organization> | null = null;
let users: Map<string, User> | null = null;

export function current(): Session | null {
  return session;
}

export function requireSession(): Session {
  if (!session) throw new Error('not signed in');
  return session;
}

// Applies /auth/me: CSRF token, language and time zone.
export function applyMe(me: Me): Session {
  setCsrfToken(me.csrf_token);
  setTimeZone(me.time_zone || 'UTC');
  if (isLocale(me.locale)) setLocale(me.locale);
  session = { me, access: accessFor(me) };
  organizations = null;
  users = null;
  return session;
}

export async function loadSession(): Promise<Session | null> {
  try {
    const me = await api<Me>('GET', '/api/v1/auth/me', undefined, { quiet401: true });
    return applyMe(me);
  } catch {
    session = null;
    return null;
  }
}

export async function signIn(username: string, password: string): Promise<Session> {
  await api('POST', '/api/v1/auth/login', { username, password }, { quiet401: true });
  userNames.clear();
  const me = await get<Me>('/api/v1/auth/me');
  return applyMe(me);
}

export async function signOut(): Promise<void> {
  try {
    await api('POST', '/api/v1/auth/logout', {});
  } finally {
    forget();
  }
}

export function forget(): void {
  session = null;
  userNames.clear();
  organizations = null;
  users = null;
  setCsrfToken('');
}

// Remembered per user on the server; the console follows at once.
export async function saveLocale(next: 'en' | 'ja'): Promise<void> {
  setLocale(next);
  if (!session) return;
  const me = await patch<Me>('/api/v1/auth/me', { locale: next });
  session = { me, access: accessFor(me) };
  setCsrfToken(me.csrf_token ?? undefined);
  if (locale() !== next) setLocale(next);
}

export async function saveProfile(changes: { time_zone?: string; display_name?: string; locale?: 'en' | 'ja' }): Promise<void> {
  const me = await patch<Me>('/api/v1/auth/me', changes);
  applyMe(me);
}

export async function orgMap(): Promise<Map<string, Organization>> {
  if (organizations) return organizations;
  try {
    const items = await getAll<Organization>('/api/v1/organizations');
    organizations = new Map(items.map((o) => [o.id, o]));
  } catch {
    organizations = new Map();
  }
  if (session?.me.organization && !organizations.has(session.me.organization.id)) {
    organizations.set(session.me.organization.id, session.me.organization);
  }
  return organizations;
}

export function invalidateOrgs(): void {
  organizations = null;
}

export async function userMap(): Promise<Map<string, User>> {
  if (users) return users;
  users = new Map();
  if (session) users.set(session.me.user.id, session.me.user);
  try {
    for (const user of await getAll<User>('/api/v1/users')) users.set(user.id, user);
  } catch {
    // Lists only what the caller manages; names of others stay ids.
  }
  return users;
}

export function invalidateUsers(): void {
  users = null;
}
