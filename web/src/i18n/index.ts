// Translation: two flat catalogues (en.json, ja.json) with the same keys, checked by
// i18n.test.ts. Every visible string of the console goes through `t`; values coming from the
// API's closed vocabularies (statuses, categories, sectors...) go through `tEnum`, whose keys
// are listed in enums.ts and checked by the same test.
import en from './en.json';
import ja from './ja.json';

export type Locale = 'en' | 'ja';
export const LOCALES: readonly Locale[] = ['en', 'ja'];

type Catalogue = Record<string, string>;
const CATALOGUES: Record<Locale, Catalogue> = { en, ja };

let current: Locale = 'en';
const listeners = new Set<(locale: Locale) => void>();

export function locale(): Locale {
  return current;
}

export function isLocale(value: unknown): value is Locale {
  return value === 'en' || value === 'ja';
}

export function setLocale(next: Locale): void {
  if (next === current) return;
  current = next;
  if (typeof document !== 'undefined') document.documentElement.lang = next;
  for (const listener of listeners) listener(next);
}

export function onLocaleChange(listener: (locale: Locale) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function hasKey(key: string, loc: Locale = current): boolean {
  return Object.prototype.hasOwnProperty.call(CATALOGUES[loc], key);
}

// "{name}" placeholders are replaced by params.name. A missing key shows the key itself, so a
// gap is visible instead of silently blank (the unit test keeps that from shipping).
export function t(key: string, params?: Record<string, string | number>): string {
  const text = CATALOGUES[current][key] ?? CATALOGUES.en[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole);
}

// A value of one of the API's enumerations, e.g. tEnum('incident.status', 'triaged'). Unknown
// values (a newer server) are shown as they are.
export function tEnum(group: string, value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—';
  const key = `${group}.${value}`;
  return hasKey(key) || hasKey(key, 'en') ? t(key) : value;
}

export function catalogue(loc: Locale): Catalogue {
  return CATALOGUES[loc];
}
