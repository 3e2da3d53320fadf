// The catalogues: the same keys in English and Japanese, no empty values, the same
// placeholders on both sides, and every key the code uses present — including the labels of
// every API enumeration (enums.ts), every page of the navigation, and the error kinds.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import en from '../i18n/en.json';
import ja from '../i18n/ja.json';
import { ENUMS } from '../enums';
import { PAGE_ORDER } from '../access';

const SRC = join(dirname(fileURLToPath(import.meta.url)), '..');

function sources(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'test') files.push(...sources(path));
    } else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) {
      files.push(path);
    }
  }
  return files;
}

const KEY = /^[a-z_]+(\.[a-z0-9_+]+)+$/;

// Keys written literally in the code: t('key'), the string literals inside a t(...) call
// (t(cond ? 'a.b' : 'c.d')), validation results { key: 'validation.x' }, and the error kinds
// errorKind returns.
function usedKeys(): Map<string, string> {
  const used = new Map<string, string>();
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8');
    const add = (key: string) => { if (KEY.test(key)) used.set(key, file); };
    for (const call of text.matchAll(/\bt\(([^()]*)\)/g)) {
      for (const literal of call[1].matchAll(/'([^'\n]+)'/g)) add(literal[1]);
    }
    for (const m of text.matchAll(/\bkey: '([^']+)'/g)) add(m[1]);
    for (const m of text.matchAll(/return '((?:error|validation)\.[a-z0-9_]+)'/g)) add(m[1]);
  }
  return used;
}

describe('catalogues', () => {
  const enKeys = Object.keys(en).sort();
  const jaKeys = Object.keys(ja).sort();

  it('have the same keys', () => {
    expect(enKeys.filter((k) => !(k in ja))).toEqual([]);
    expect(jaKeys.filter((k) => !(k in en))).toEqual([]);
  });

  it('have no empty values', () => {
    for (const [name, catalogue] of [['en', en], ['ja', ja]] as const) {
      const empty = Object.entries(catalogue).filter(([, v]) => typeof v !== 'string' || !v.trim()).map(([k]) => k);
      expect(empty, name).toEqual([]);
    }
  });

  it('use the same placeholders in both languages', () => {
    const names = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    const differ = enKeys.filter((k) => names((en as Record<string, string>)[k]).join() !== names((ja as Record<string, string>)[k]).join());
    expect(differ).toEqual([]);
  });

  it('translate the Japanese side (not left in English)', () => {
    // Keys whose values are the same in both languages by nature (TLP labels, formats).
    const same = enKeys.filter((k) => (en as Record<string, string>)[k] === (ja as Record<string, string>)[k]);
    const allowed = same.filter((k) => /^tlp\.|^job\.progress_count$|^attack_vector\.web$|^indicator_type\.url$/.test(k));
    expect(same.filter((k) => !allowed.includes(k))).toEqual([]);
  });

  it('contain every key the code uses', () => {
    const used = usedKeys();
    expect(used.size).toBeGreaterThan(300);
    const missing = [...used].filter(([key]) => !(key in en)).map(([key, file]) => `${key} (${file})`);
    expect(missing).toEqual([]);
  });

  it('label every value of every API enumeration', () => {
    const missing: string[] = [];
    for (const [group, list] of Object.entries(ENUMS)) {
      for (const value of list) if (!(`${group}.${value}` in en)) missing.push(`${group}.${value}`);
    }
    expect(missing).toEqual([]);
  });

  it('name every page of the navigation and every overview period', () => {
    const keys = [...PAGE_ORDER.map((p) => `nav.${p}`), ...['1d', '7d', '30d', '90d'].map((p) => `overview.period_${p}`)];
    expect(keys.filter((k) => !(k in en))).toEqual([]);
  });
});

describe('t and tEnum', () => {
  it('translate, interpolate and fall back visibly', async () => {
    const { t, tEnum, setLocale } = await import('../i18n');
    setLocale('ja');
    expect(t('nav.incidents')).toBe('インシデント');
    expect(t('nav.advisories')).toBe('注意喚起');
    expect(t('nav.requests')).toBe('資料提供の求め');
    expect(t('nav.recommendations')).toBe('勧告');
    expect(tEnum('org.type', 'critical_infrastructure')).toBe('重要インフラ事業者');
    expect(tEnum('tlp', 'green')).toBe('TLP:GREEN');
    expect(t('validation.too_long', { max: 200 })).toBe('200 文字以内で入力してください。');
    expect(tEnum('incident.status', 'some_new_status')).toBe('some_new_status');
    expect(tEnum('incident.status', null)).toBe('—');
    expect(t('no.such.key')).toBe('no.such.key');
    setLocale('en');
    expect(t('validation.too_long', { max: 200 })).toBe('At most 200 characters.');
  });
});
