import { describe, expect, it } from 'vitest';
import { validateIncident, type IncidentFormValues } from '../incident_validation';
import { nextStatuses, noteRequired } from '../incident_flow';
import { heatClass } from '../heat';

const valid: IncidentFormValues = {
  title: 'Ransomware on the file server', description: 'Files encrypted on FS01.', category: 'malware', tlp: 'amber',
  functional_impact: 'minimal_impact_to_non_critical_services', information_impact: 'suspected_but_not_identified',
  recoverability: 'supplemented', location: 'business_network', observed_activity: '', actor_characterization: '',
  cross_sector_dependency: '', potential_impact: '', attack_vector: 'email_phishing',
  detected_at: '2027-01-15T17:00', occurred_at: '2027-01-15T09:30', systems_affected: '3', records_affected: '',
  users_affected: '', techniques: 't1486, T1566.001', indicators: [{ type: 'ip', value: ' 203.0.113.7 ' }],
  mitigations: '', contact_name: 'Sato Hanako', contact_email: 'soc@example.go.jp', contact_phone: '', owner_org_id: '',
};

describe('incident report validation', () => {
  it('builds the API body in UTC from a valid form', () => {
    const { errors, body } = validateIncident(valid, 'Asia/Tokyo');
    expect(errors).toEqual({});
    expect(body).toMatchObject({
      title: 'Ransomware on the file server',
      detected_at: '2027-01-15T08:00:00.000Z',
      occurred_at: '2027-01-15T00:30:00.000Z',
      systems_affected: 3,
      techniques: ['T1486', 'T1566.001'],
      indicators: [{ type: 'ip', value: '203.0.113.7' }],
      attack_vector: 'email_phishing',
      point_of_contact: { name: 'Sato Hanako', email: 'soc@example.go.jp' },
    });
    expect(body).not.toHaveProperty('records_affected');
    expect(body).not.toHaveProperty('observed_activity');
  });

  it('reports every missing required field under the API’s field names', () => {
    const empty: IncidentFormValues = { ...valid, title: ' ', description: '', category: '', functional_impact: '', information_impact: '', recoverability: '', location: '', detected_at: '', contact_name: '', contact_email: '' };
    const { errors, body } = validateIncident(empty, 'UTC');
    expect(body).toBeNull();
    expect(Object.keys(errors).sort()).toEqual([
      'category', 'description', 'detected_at', 'functional_impact', 'information_impact', 'location',
      'point_of_contact.email', 'point_of_contact.name', 'recoverability', 'title',
    ]);
    expect(errors.title.key).toBe('validation.required');
  });

  it('checks e-mail, counts, techniques, times and lengths', () => {
    const { errors } = validateIncident({
      ...valid, contact_email: 'not-an-address', systems_affected: '-1', users_affected: '2.5',
      techniques: 'T1486, phishing', occurred_at: '2027-01-16T09:00', title: 'x'.repeat(201),
      indicators: [{ type: '', value: 'evil.example' }],
    }, 'Asia/Tokyo');
    expect(errors['point_of_contact.email'].key).toBe('validation.email');
    expect(errors.systems_affected.key).toBe('validation.count');
    expect(errors.users_affected.key).toBe('validation.count');
    expect(errors.techniques).toEqual({ key: 'validation.technique', params: { value: 'PHISHING' } });
    expect(errors.occurred_at.key).toBe('validation.occurred_after_detected');
    expect(errors.title).toEqual({ key: 'validation.too_long', params: { max: 200 } });
    expect(errors['indicators[0].type'].key).toBe('validation.required');
  });
});

describe('incident lifecycle offered in the triage view', () => {
  it('requires triage first, then moves forward only', () => {
    expect(nextStatuses('reported', true)).toEqual(['triaged']);
    expect(nextStatuses('triaged', false)).toEqual(['investigating', 'contained', 'resolved', 'closed']);
    expect(nextStatuses('closed', false)).toEqual([]);
  });

  it('lets centre administrators reopen, with a note', () => {
    expect(nextStatuses('resolved', true)).toEqual(['investigating', 'closed']);
    expect(noteRequired('closed', 'investigating')).toBe(true);
    expect(noteRequired('triaged', 'investigating')).toBe(false);
  });
});

describe('heatmap colour steps', () => {
  it('maps counts to six classes relative to the largest', () => {
    expect(heatClass(0, 10)).toBe('heat-0');
    expect(heatClass(1, 100)).toBe('heat-1');
    expect(heatClass(50, 100)).toBe('heat-3');
    expect(heatClass(100, 100)).toBe('heat-5');
  });
});
