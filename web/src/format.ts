// Dates, numbers and sizes for people. The API speaks UTC (RFC 3339 with ms); the console shows
// every time in the user's own time zone (time_zone from /auth/me) and reads the times people
// type (datetime-local inputs, which have no zone) in that same zone, whatever the browser's.
import { locale } from './i18n';

let zone = 'Asia/Tokyo';

export function setTimeZone(next: string): void {
  zone = isValidTimeZone(next) ? next : 'UTC';
}

export function timeZone(): string {
  return zone;
}

export function isValidTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function intlLocale(loc: string): string {
  return loc === 'ja' ? 'ja-JP' : 'en-GB';
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(loc: string, tz: string, style: 'datetime' | 'seconds' | 'date' | 'day' | 'hour'): Intl.DateTimeFormat {
  const key = `${loc}|${tz}|${style}`;
  let f = formatters.get(key);
  if (!f) {
    const options: Intl.DateTimeFormatOptions = { timeZone: tz };
    if (style === 'datetime') {
      Object.assign(options, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    } else if (style === 'seconds') {
      Object.assign(options, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
    } else if (style === 'date') {
      Object.assign(options, { year: 'numeric', month: '2-digit', day: '2-digit' });
    } else if (style === 'day') {
      Object.assign(options, { month: 'short', day: 'numeric' });
    } else {
      Object.assign(options, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    }
    f = new Intl.DateTimeFormat(intlLocale(loc), options);
    formatters.set(key, f);
  }
  return f;
}

// "2027/01/15 17:00" (ja) or "15/01/2027, 17:00" (en) in the user's zone; '—' for none.
export function formatDateTime(value: string | null | undefined, tz = zone, loc: string = locale()): string {
  if (!value) return '—';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return formatter(loc, tz, 'datetime').format(date);
}

// The same to the second, for timelines and chains of custody ("2027/01/15 17:00:42").
export function formatDateTimeSeconds(value: string | null | undefined, tz = zone, loc: string = locale()): string {
  if (!value) return '—';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return formatter(loc, tz, 'seconds').format(date);
}

export function formatDate(value: string | null | undefined, tz = zone, loc: string = locale()): string {
  if (!value) return '—';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return formatter(loc, tz, 'date').format(date);
}

// A chart's bucket label: a day, or a day and hour.
export function formatBucket(value: string, bucket: 'day' | 'hour', tz = zone, loc: string = locale()): string {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return formatter(loc, tz, bucket === 'hour' ? 'hour' : 'day').format(date);
}

// The zone's offset from UTC in minutes at the given instant (Asia/Tokyo: +540).
export function zoneOffsetMinutes(instant: Date, tz: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(instant);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour') % 24, get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(instant.getTime() / 1000) * 1000) / 60000);
}

// A datetime-local value ("2027-01-15T17:00") read as wall-clock time in `tz`, as an RFC 3339
// UTC string; null when the text is not such a value.
export function wallTimeToUtc(wall: string, tz = zone): string | null {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(wall);
  if (!match) return null;
  const [, y, mo, d, hh, mm, ss] = match;
  const naive = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(hh), Number(mm), Number(ss ?? 0));
  // The offset at the naive instant, corrected once for a zone change between the two.
  let offset = zoneOffsetMinutes(new Date(naive), tz);
  let utc = naive - offset * 60000;
  const again = zoneOffsetMinutes(new Date(utc), tz);
  if (again !== offset) {
    offset = again;
    utc = naive - offset * 60000;
  }
  return new Date(utc).toISOString();
}

// The other way: an instant as a datetime-local value in `tz` ("2027-01-15T17:00").
export function utcToWallTime(value: string | Date, tz = zone): string {
  const date = typeof value === 'string' ? new Date(value) : value;
  const shifted = new Date(date.getTime() + zoneOffsetMinutes(date, tz) * 60000);
  return shifted.toISOString().slice(0, 16);
}

export function formatNumber(value: number | null | undefined, loc: string = locale()): string {
  if (value === null || value === undefined) return '—';
  return new Intl.NumberFormat(intlLocale(loc)).format(value);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

// Progress as a whole percentage, or null when the total is unknown.
export function percent(done: number, total: number): number | null {
  if (!total || total <= 0) return null;
  return Math.max(0, Math.min(100, Math.floor((done / total) * 100)));
}

export function shortId(id: string | null | undefined): string {
  if (!id) return '—';
  return id.length > 12 ? `${id.slice(0, 8)}…` : id;
}

export function tlpLabel(tlp: string): string {
  return `TLP:${tlp.toUpperCase()}`;
}
