import { describe, expect, it } from 'vitest';
import { LOGSOURCE_PART, logsourceText } from '../logsource';

describe('sensor logsource', () => {
  it('joins the given parts in the server\'s order and leaves out empty ones', () => {
    expect(logsourceText('windows', '', 'sysmon')).toBe('product=windows,service=sysmon');
    expect(logsourceText(' linux ', 'process_creation', '')).toBe('product=linux,category=process_creation');
    expect(logsourceText('', '', '')).toBe('');
  });

  it('accepts only what the server accepts in a part', () => {
    expect(LOGSOURCE_PART.test('process_creation')).toBe(true);
    expect(LOGSOURCE_PART.test('web-proxy2')).toBe(true);
    expect(LOGSOURCE_PART.test('')).toBe(true);  // an empty part is left out
    expect(LOGSOURCE_PART.test('Windows')).toBe(false);
    expect(LOGSOURCE_PART.test('a=b')).toBe(false);
    expect(LOGSOURCE_PART.test('a,b')).toBe(false);
    expect(LOGSOURCE_PART.test('x'.repeat(65))).toBe(false);
  });
});
