import { describe, expect, it } from 'vitest';
import { formatDateTime, formatDateTimeSeconds, formatDate, percent, utcToWallTime, wallTimeToUtc, zoneOffsetMinutes, isValidTimeZone, formatBucket } from '../format';

describe('dates in the user’s time zone', () => {
  const instant = '2027-01-15T08:00:00.000Z';

  it('shows the same instant as Tokyo and London wall-clock time', () => {
    expect(formatDateTime(instant, 'Asia/Tokyo', 'ja')).toBe('2027/01/15 17:00');
    expect(formatDateTime(instant, 'Europe/London', 'en')).toBe('15/01/2027, 08:00');
    expect(formatDateTime(instant, 'America/New_York', 'en')).toBe('15/01/2027, 03:00');
  });

  it('shows seconds where the order of events matters', () => {
    expect(formatDateTimeSeconds('2027-01-15T08:00:42.500Z', 'Asia/Tokyo', 'ja')).toBe('2027/01/15 17:00:42');
    expect(formatDateTimeSeconds('2027-01-15T08:00:42Z', 'UTC', 'en')).toBe('15/01/2027, 08:00:42');
    expect(formatDateTimeSeconds(null, 'UTC', 'en')).toBe('—');
  });

  it('changes the date across midnight', () => {
    expect(formatDate('2027-01-15T20:00:00.000Z', 'Asia/Tokyo', 'ja')).toBe('2027/01/16');
    expect(formatDate('2027-01-15T20:00:00.000Z', 'UTC', 'ja')).toBe('2027/01/15');
  });

  it('shows a dash for no time', () => {
    expect(formatDateTime(null, 'UTC', 'en')).toBe('—');
  });

  it('labels chart buckets in the zone', () => {
    expect(formatBucket('2027-01-15T15:00:00.000Z', 'day', 'Asia/Tokyo', 'en')).toBe('16 Jan');
  });

  it('knows zone offsets, with summer time', () => {
    expect(zoneOffsetMinutes(new Date(instant), 'Asia/Tokyo')).toBe(540);
    expect(zoneOffsetMinutes(new Date('2027-07-01T12:00:00Z'), 'Europe/London')).toBe(60);
    expect(zoneOffsetMinutes(new Date(instant), 'Europe/London')).toBe(0);
  });

  it('reads typed times in the user’s zone, not the browser’s', () => {
    expect(wallTimeToUtc('2027-01-15T17:00', 'Asia/Tokyo')).toBe('2027-01-15T08:00:00.000Z');
    expect(wallTimeToUtc('2027-07-01T13:30', 'Europe/London')).toBe('2027-07-01T12:30:00.000Z');
    expect(wallTimeToUtc('2027-03-14T03:30', 'America/New_York')).toBe('2027-03-14T07:30:00.000Z');
    expect(wallTimeToUtc('not a time', 'UTC')).toBeNull();
  });

  it('writes instants as wall-clock input values and back', () => {
    expect(utcToWallTime(instant, 'Asia/Tokyo')).toBe('2027-01-15T17:00');
    const back = wallTimeToUtc(utcToWallTime(instant, 'America/New_York'), 'America/New_York');
    expect(back).toBe(instant);
  });

  it('validates zone names', () => {
    expect(isValidTimeZone('Asia/Tokyo')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
  });

  it('computes progress percentages', () => {
    expect(percent(5, 10)).toBe(50);
    expect(percent(3, 0)).toBeNull();
    expect(percent(15, 10)).toBe(100);
  });
});
