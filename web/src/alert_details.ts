// What an alert's stored details say about its event, for the alert page: the host it names,
// and what made the rule fire. Live detection writes the details as `yagura scan` writes an
// alert (docs/serve.md): `host`, and `details` with each matched field and its value; alerts
// stored before those existed have only the `matched` field names, shown as they are. With
// GeoIP databases configured (`geo_ip`), `geo` says where the event's addresses are.

export interface MatchedValue {
  field: string;
  value: string | null;  // null: only the field's name is known
}

function record(details: unknown): Record<string, unknown> | null {
  return details && typeof details === 'object' && !Array.isArray(details) ? details as Record<string, unknown> : null;
}

export function alertHost(details: unknown): string | null {
  const host = record(details)?.host;
  return typeof host === 'string' && host !== '' ? host : null;
}

export function matchedValues(details: unknown): MatchedValue[] {
  const d = record(details);
  if (!d) return [];
  const values = record(d.details);
  if (values && Object.keys(values).length) {
    return Object.entries(values).map(([field, value]) => ({ field, value: typeof value === 'string' ? value : JSON.stringify(value) }));
  }
  const names = Array.isArray(d.matched) ? d.matched.filter((name): name is string => typeof name === 'string') : [];
  return names.map((field) => ({ field, value: null }));
}

export interface AddressLocation {
  field: string;
  address: string;
  text: string;  // "Japan (JP), Tokyo · AS2516 KDDI CORPORATION"
}

// The located addresses of the alert's event, by field, as one line each.
export function alertLocations(details: unknown): AddressLocation[] {
  const geo = record(record(details)?.geo);
  if (!geo) return [];
  const out: AddressLocation[] = [];
  for (const [field, value] of Object.entries(geo)) {
    const where = record(value);
    if (!where || typeof where.address !== 'string') continue;
    const text = (key: string) => (typeof where[key] === 'string' ? where[key] as string : '');
    const country = text('country_name') && text('country') ? `${text('country_name')} (${text('country')})` : text('country_name') || text('country');
    const place = [country, text('city')].filter(Boolean).join(', ');
    const network = typeof where.asn === 'number' ? [`AS${where.asn}`, text('as_org')].filter(Boolean).join(' ') : text('as_org');
    out.push({ field, address: where.address, text: [place, network].filter(Boolean).join(' · ') });
  }
  return out;
}
