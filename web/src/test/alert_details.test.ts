import { describe, expect, it } from 'vitest';
import { alertHost, alertLocations, matchedValues } from '../alert_details';

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

describe('alertLocations', () => {
  it('gives each located address of the event with its place and network', () => {
    expect(alertLocations({
      geo: {
        IpAddress: { address: '203.0.113.9', country: 'JP', country_name: 'Japan', city: 'Tokyo', asn: 2516, as_org: 'KDDI CORPORATION' },
        SourceAddress: { address: '198.51.100.7', country: 'NL', country_name: '', city: '', asn: null, as_org: '' },
        DestinationIp: { address: '192.0.2.1', country: '', country_name: '', city: '', asn: 64500, as_org: '' },
      },
    })).toEqual([
      { field: 'IpAddress', address: '203.0.113.9', text: 'Japan (JP), Tokyo · AS2516 KDDI CORPORATION' },
      { field: 'SourceAddress', address: '198.51.100.7', text: 'NL' },
      { field: 'DestinationIp', address: '192.0.2.1', text: 'AS64500' },
    ]);
  });
  it('is empty without GeoIP or for details of another shape', () => {
    expect(alertLocations({ geo: {} })).toEqual([]);
    expect(alertLocations({ host: 'dc1' })).toEqual([]);
    expect(alertLocations(null)).toEqual([]);
    expect(alertLocations({ geo: { IpAddress: 'not an object' } })).toEqual([]);
  });
});
