// Checks of the incident report form before it is sent, with the server's limits
// (src/hub/incidents.hpp) and rules (ValidateReport), so people get every problem at once and
// in their language. Errors are keyed by the API's field paths ("point_of_contact.email"), the
// same names the server uses in its 400 answers, so both land next to the same control.
import { wallTimeToUtc } from './format';

export interface IncidentFormValues {
  title: string;
  description: string;
  category: string;
  tlp: string;
  functional_impact: string;
  information_impact: string;
  recoverability: string;
  location: string;
  observed_activity: string;
  actor_characterization: string;
  cross_sector_dependency: string;
  potential_impact: string;
  attack_vector: string;
  detected_at: string;   // datetime-local, in the user's time zone
  occurred_at: string;
  systems_affected: string;
  records_affected: string;
  users_affected: string;
  techniques: string;    // comma or line separated
  indicators: { type: string; value: string }[];
  mitigations: string;
  contact_name: string;
  contact_email: string;
  contact_phone: string;
  owner_org_id: string;
}

export interface FieldError {
  key: string;                       // i18n key
  params?: Record<string, string | number>;
}

export type Errors = Record<string, FieldError>;

export const LIMITS = {
  title: 200,
  description: 20000,
  mitigations: 20000,
  indicatorValue: 2048,
  indicators: 1000,
  techniques: 100,
  contactName: 200,
  contactEmail: 254,
  contactPhone: 50,
  count: 1_000_000_000_000,
};

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const TECHNIQUE = /^T\d{4}(\.\d{3})?$/;

function length(text: string): number {
  return [...text].length;
}

export function splitTechniques(text: string): string[] {
  return text.split(/[\s,]+/).map((s) => s.trim().toUpperCase()).filter(Boolean);
}

// Returns the errors and, when there are none, the JSON body of POST /api/v1/incidents.
export function validateIncident(v: IncidentFormValues, timeZone: string): { errors: Errors; body: Record<string, unknown> | null } {
  const errors: Errors = {};
  const required = (field: string, value: string) => {
    if (!value.trim()) errors[field] = { key: 'validation.required' };
    return Boolean(value.trim());
  };
  const maxLength = (field: string, value: string, max: number) => {
    if (length(value) > max) errors[field] = { key: 'validation.too_long', params: { max } };
  };

  if (required('title', v.title)) maxLength('title', v.title, LIMITS.title);
  if (required('description', v.description)) maxLength('description', v.description, LIMITS.description);
  required('category', v.category);
  required('functional_impact', v.functional_impact);
  required('information_impact', v.information_impact);
  required('recoverability', v.recoverability);
  required('location', v.location);

  let detected: string | null = null;
  if (required('detected_at', v.detected_at)) {
    detected = wallTimeToUtc(v.detected_at, timeZone);
    if (!detected) errors.detected_at = { key: 'validation.datetime' };
  }
  let occurred: string | null = null;
  if (v.occurred_at.trim()) {
    occurred = wallTimeToUtc(v.occurred_at, timeZone);
    if (!occurred) errors.occurred_at = { key: 'validation.datetime' };
    else if (detected && Date.parse(occurred) > Date.parse(detected)) {
      errors.occurred_at = { key: 'validation.occurred_after_detected' };
    }
  }

  const counts: Record<string, number | null> = {};
  for (const name of ['systems_affected', 'records_affected', 'users_affected'] as const) {
    const text = v[name].trim();
    if (!text) {
      counts[name] = null;
      continue;
    }
    const n = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n > LIMITS.count) {
      errors[name] = { key: 'validation.count' };
    } else {
      counts[name] = n;
    }
  }

  const techniques = splitTechniques(v.techniques);
  const badTechnique = techniques.find((id) => !TECHNIQUE.test(id));
  if (badTechnique) errors.techniques = { key: 'validation.technique', params: { value: badTechnique } };
  else if (techniques.length > LIMITS.techniques) errors.techniques = { key: 'validation.too_many', params: { max: LIMITS.techniques } };

  const indicators = v.indicators.filter((i) => i.value.trim() || i.type);
  indicators.forEach((indicator, index) => {
    if (!indicator.type) errors[`indicators[${index}].type`] = { key: 'validation.required' };
    if (!indicator.value.trim()) errors[`indicators[${index}].value`] = { key: 'validation.required' };
    else maxLength(`indicators[${index}].value`, indicator.value, LIMITS.indicatorValue);
  });

  maxLength('mitigations', v.mitigations, LIMITS.mitigations);
  if (required('point_of_contact.name', v.contact_name)) maxLength('point_of_contact.name', v.contact_name, LIMITS.contactName);
  if (required('point_of_contact.email', v.contact_email)) {
    if (!EMAIL.test(v.contact_email.trim()) || length(v.contact_email) > LIMITS.contactEmail) {
      errors['point_of_contact.email'] = { key: 'validation.email' };
    }
  }
  maxLength('point_of_contact.phone', v.contact_phone, LIMITS.contactPhone);

  if (Object.keys(errors).length) return { errors, body: null };

  const body: Record<string, unknown> = {
    title: v.title.trim(),
    description: v.description.trim(),
    category: v.category,
    tlp: v.tlp || 'amber',
    functional_impact: v.functional_impact,
    information_impact: v.information_impact,
    recoverability: v.recoverability,
    location: v.location,
    detected_at: detected,
    point_of_contact: {
      name: v.contact_name.trim(),
      email: v.contact_email.trim(),
      ...(v.contact_phone.trim() ? { phone: v.contact_phone.trim() } : {}),
    },
  };
  for (const name of ['observed_activity', 'actor_characterization', 'cross_sector_dependency', 'potential_impact', 'attack_vector'] as const) {
    if (v[name]) body[name] = v[name];
  }
  if (occurred) body.occurred_at = occurred;
  for (const [name, value] of Object.entries(counts)) if (value !== null) body[name] = value;
  if (techniques.length) body.techniques = [...new Set(techniques)];
  if (indicators.length) body.indicators = indicators.map((i) => ({ type: i.type, value: i.value.trim() }));
  if (v.mitigations.trim()) body.mitigations = v.mitigations.trim();
  if (v.owner_org_id) body.owner_org_id = v.owner_org_id;
  return { errors, body };
}
