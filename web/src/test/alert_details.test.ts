import { describe, expect, it } from 'vitest';
import { alertHost, matchedValues } from '../alert_details';

describe('alert details', () => {
  it('names the host when the event did', () => {
    expect(alertHost({ host: 'WS01.corp.example.org' })).toBe('WS01.corp.example.org');
    expect(alertHost({ host: null })).toBeNull();
    expect(alertHost({ host: '' })).toBeNull();
    expect(alertHost(null)).toBeNull();
    expect(alertHost([])).toBeNull();
  });

  it('lists each matched field with its value, in the order written', () => {
    expect(matchedValues({
      matched: ['Image', 'CommandLine'],
      details: { Image: 'C:\\Windows\\System32\\whoami.exe', CommandLine: 'whoami /all' },
    })).toEqual([
      { field: 'Image', value: 'C:\\Windows\\System32\\whoami.exe' },
      { field: 'CommandLine', value: 'whoami /all' },
    ]);
  });

  it('falls back to the field names of alerts stored before values were', () => {
    expect(matchedValues({ matched: ['EventID', 42], details: {} })).toEqual([{ field: 'EventID', value: null }]);
    expect(matchedValues({ matched: ['EventID'] })).toEqual([{ field: 'EventID', value: null }]);
    expect(matchedValues(undefined)).toEqual([]);
  });
});
