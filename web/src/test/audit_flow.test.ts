import { describe, expect, it } from 'vitest';
import {
  auditMoves, canAttachToRecommendation, controlsNeedingFindings, owedQuery, dayInZone, depthClass, endOfDayUtc, followUpActions, groupControls, parseControlIds,
  parseProfile, progressSegments, shortHash, startOfDayUtc, validateAudit, validateFinding, validateRecommendation, type AuditFormValues,
  type FollowUpViewer,
} from '../audit_flow';

const NOW = Date.parse('2027-01-15T03:00:00Z');

describe('the lifecycle of an audit', () => {
  it('starts fieldwork from planning, or cancels with a reason', () => {
    expect(auditMoves('planning')).toEqual([
      { to: 'fieldwork', action: 'start_fieldwork', noteRequired: false },
      { to: 'cancelled', action: 'cancel', noteRequired: true },
    ]);
  });

  it('moves fieldwork to reporting, and reporting to issued or back to fieldwork', () => {
    expect(auditMoves('fieldwork').map((m) => m.to)).toEqual(['reporting', 'cancelled']);
    expect(auditMoves('reporting').map((m) => [m.to, m.action, m.noteRequired])).toEqual([
      ['issued', 'issue', false], ['fieldwork', 'back_to_fieldwork', false], ['cancelled', 'cancel', true],
    ]);
  });

  it('closes an issued audit with its conclusion, and nothing after', () => {
    expect(auditMoves('issued')).toEqual([{ to: 'closed', action: 'close', noteRequired: true }]);
    expect(auditMoves('closed')).toEqual([]);
    expect(auditMoves('cancelled')).toEqual([]);
    expect(auditMoves('something_new')).toEqual([]);
  });
});

describe('who may follow up a recommendation (hub::FollowUpRecommendation)', () => {
  const auditee: FollowUpViewer = { auditee: true, teamRole: null };
  const lead: FollowUpViewer = { auditee: false, teamRole: 'lead' };
  const member: FollowUpViewer = { auditee: false, teamRole: 'member' };
  const reader: FollowUpViewer = { auditee: false, teamRole: 'reader' };
  const nobody: FollowUpViewer = { auditee: false, teamRole: null };
  const steps = (viewer: FollowUpViewer, status: string, audit = 'issued') =>
    followUpActions(viewer, audit, status).map((a) => `${a.action}:${a.to}${a.noteRequired ? '!' : ''}`);
  const STATUSES = ['open', 'in_progress', 'implemented', 'verified', 'risk_accepted'];

  it('lets the audited organisation report progress and implementation of an open or in-progress one', () => {
    // The first progress report may go without a note; every later one says what changed.
    expect(steps(auditee, 'open')).toEqual(['progress:in_progress', 'implemented:implemented!']);
    expect(steps(auditee, 'in_progress')).toEqual(['progress:in_progress!', 'implemented:implemented!']);
    expect(steps(auditee, 'implemented')).toEqual([]);
    expect(steps(auditee, 'verified')).toEqual([]);
    expect(steps(auditee, 'risk_accepted')).toEqual([]);
  });

  it('lets the team\'s members verify an implementation or send it back, with a note', () => {
    expect(steps(member, 'implemented')).toEqual(['verify:verified!', 'send_back:in_progress!']);
    for (const status of ['open', 'in_progress', 'verified', 'risk_accepted']) expect(steps(member, status)).toEqual([]);
  });

  it('lets leads also accept a risk, or reopen what was verified or accepted', () => {
    expect(steps(lead, 'open')).toEqual(['accept_risk:risk_accepted!']);
    expect(steps(lead, 'in_progress')).toEqual(['accept_risk:risk_accepted!']);
    expect(steps(lead, 'implemented')).toEqual(['verify:verified!', 'send_back:in_progress!', 'accept_risk:risk_accepted!']);
    expect(steps(lead, 'verified')).toEqual(['reopen:in_progress!']);
    expect(steps(lead, 'risk_accepted')).toEqual(['reopen:in_progress!']);
  });

  it('offers readers and anyone else nothing', () => {
    for (const status of STATUSES) {
      expect(steps(reader, status)).toEqual([]);
      expect(steps(nobody, status)).toEqual([]);
    }
  });

  it('offers nothing to anyone unless the audit is issued', () => {
    for (const audit of ['planning', 'fieldwork', 'reporting', 'closed', 'cancelled']) {
      for (const viewer of [auditee, lead, member]) {
        for (const status of STATUSES) expect(steps(viewer, status, audit)).toEqual([]);
      }
    }
  });
});

describe('who may attach a file to a recommendation (hub::AttachToRecommendation)', () => {
  const auditee: FollowUpViewer = { auditee: true, teamRole: null };
  const lead: FollowUpViewer = { auditee: false, teamRole: 'lead' };
  const member: FollowUpViewer = { auditee: false, teamRole: 'member' };
  const reader: FollowUpViewer = { auditee: false, teamRole: 'reader' };
  const nobody: FollowUpViewer = { auditee: false, teamRole: null };
  const AUDITS = ['planning', 'fieldwork', 'reporting', 'issued', 'closed', 'cancelled'];
  const STATUSES = ['open', 'in_progress', 'implemented', 'verified', 'risk_accepted'];
  // The recommendation statuses a viewer may attach to, per audit status.
  const allowed = (viewer: FollowUpViewer) => Object.fromEntries(AUDITS.map((audit) =>
    [audit, STATUSES.filter((status) => canAttachToRecommendation(viewer, audit, status))]));

  it('lets the audited organisation attach proof while the report is issued and the recommendation unsettled', () => {
    expect(allowed(auditee)).toEqual({
      planning: [], fieldwork: [], reporting: [], issued: ['open', 'in_progress', 'implemented'], closed: [], cancelled: [],
    });
  });

  it('lets the team\'s leads and members attach working papers from fieldwork until the audit closes', () => {
    for (const viewer of [lead, member]) {
      expect(allowed(viewer)).toEqual({
        planning: [], fieldwork: STATUSES, reporting: STATUSES, issued: STATUSES, closed: [], cancelled: [],
      });
    }
  });

  it('lets readers and anyone else attach nothing', () => {
    for (const viewer of [reader, nobody]) {
      expect(allowed(viewer)).toEqual({ planning: [], fieldwork: [], reporting: [], issued: [], closed: [], cancelled: [] });
    }
  });

  it('shortens a SHA-256 for the list', () => {
    const hash = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    expect(shortHash(hash)).toBe('e3b0c44298fc…');
    expect(shortHash('abc')).toBe('abc');
  });
});

describe('scope', () => {
  it('reads a list of control ids separated any usual way, each once, in order', () => {
    expect(parseControlIds(' ac-1, ac-2\nac-2.1;ac-1  GV.OC-01 ')).toEqual(['ac-1', 'ac-2', 'ac-2.1', 'GV.OC-01']);
    expect(parseControlIds(' ,\n ')).toEqual([]);
  });

  it('takes an OSCAL profile document whole, and names what is wrong with another file', () => {
    const doc = { profile: { uuid: 'p', imports: [{ href: '#c', 'include-all': {} }] } };
    expect(parseProfile(JSON.stringify(doc))).toEqual({ profile: doc });
    expect(parseProfile('{not json')).toEqual({ error: 'audits.profile_not_json' });
    expect(parseProfile('{"catalog": {}}')).toEqual({ error: 'audits.profile_not_profile' });
    expect(parseProfile('[{"profile": {}}]')).toEqual({ error: 'audits.profile_not_profile' });
    expect(parseProfile('{"profile": []}')).toEqual({ error: 'audits.profile_not_profile' });
  });
});

describe('dates', () => {
  it('reads a due date as the end of that day in the user\'s zone, a start as its beginning', () => {
    expect(endOfDayUtc('2027-03-31', 'Asia/Tokyo')).toBe('2027-03-31T14:59:59.000Z');
    expect(startOfDayUtc('2027-03-01', 'Asia/Tokyo')).toBe('2027-02-28T15:00:00.000Z');
    expect(endOfDayUtc('31/03/2027', 'Asia/Tokyo')).toBeNull();
    expect(startOfDayUtc('', 'UTC')).toBeNull();
  });

  it('shows an instant as the day it falls on in the zone', () => {
    expect(dayInZone('2027-03-31T14:59:59.000Z', 'Asia/Tokyo')).toBe('2027-03-31');
    expect(dayInZone('2027-03-31T15:00:00.000Z', 'Asia/Tokyo')).toBe('2027-04-01');
    expect(dayInZone(null, 'UTC')).toBe('');
  });
});

const form: AuditFormValues = {
  title: ' FY2027 audit of the Ministry of Examples ', objectives: '', auditee_org_id: 'org-m', standard_id: 'std-1',
  tlp: 'amber+strict', planned_start: '2027-02-01', planned_end: '2027-02-28', scope: 'all', control_ids: '', profile_text: null,
  members: [{ user_id: 'u2', role: 'member' }, { user_id: 'u3', role: '' }],
};

describe('opening an audit', () => {
  it('builds the API body: the period in UTC, only chosen members, every control by default', () => {
    const { errors, body } = validateAudit(form, 'Asia/Tokyo');
    expect(errors).toEqual({});
    expect(body).toEqual({
      title: 'FY2027 audit of the Ministry of Examples', auditee_org_id: 'org-m', standard_id: 'std-1', tlp: 'amber+strict',
      planned_start: '2027-01-31T15:00:00.000Z', planned_end: '2027-02-28T14:59:59.000Z', members: [{ user_id: 'u2', role: 'member' }],
    });
  });

  it('sends a listed scope as control_ids, a profile as the document', () => {
    expect(validateAudit({ ...form, scope: 'list', control_ids: 'ac-1 ac-2' }, 'UTC').body.control_ids).toEqual(['ac-1', 'ac-2']);
    const profile = validateAudit({ ...form, scope: 'profile', profile_text: '{"profile":{"imports":[]}}' }, 'UTC');
    expect(profile.body.profile).toEqual({ profile: { imports: [] } });
    expect(profile.body.control_ids).toBeUndefined();
  });

  it('names every missing or wrong field at once', () => {
    const { errors } = validateAudit({
      ...form, title: ' ', auditee_org_id: '', standard_id: '', planned_start: '2027-03-01', planned_end: '2027-02-01',
      scope: 'list', control_ids: ' ',
    }, 'UTC');
    expect(Object.keys(errors).sort()).toEqual(['auditee_org_id', 'control_ids', 'planned_end', 'standard_id', 'title']);
    expect(errors.planned_end).toEqual({ key: 'validation.to_after_from' });
    expect(validateAudit({ ...form, scope: 'profile' }, 'UTC').errors.profile).toEqual({ key: 'validation.required' });
    expect(validateAudit({ ...form, scope: 'profile', profile_text: 'x' }, 'UTC').errors.profile).toEqual({ key: 'audits.profile_not_json' });
    expect(validateAudit({ ...form, title: 'x'.repeat(201) }, 'UTC').errors.title).toEqual({ key: 'validation.too_long', params: { max: 200 } });
  });
});

describe('findings and recommendations', () => {
  it('needs a control and a title for a finding', () => {
    expect(validateFinding({ control_id: 'ac-1', title: ' No MFA ', description: 'Seen on 3 hosts.', risk: 'high' }))
      .toEqual({ errors: {}, body: { control_id: 'ac-1', title: 'No MFA', description: 'Seen on 3 hosts.', risk: 'high' } });
    expect(Object.keys(validateFinding({ control_id: '', title: '', description: '', risk: '' }).errors).sort()).toEqual(['control_id', 'title']);
  });

  it('needs a text and a due date for a recommendation, not in the past for a new one', () => {
    expect(validateRecommendation({ text: 'Enforce MFA.', due: '2027-03-31' }, 'Asia/Tokyo', true, NOW))
      .toEqual({ errors: {}, body: { text: 'Enforce MFA.', due_at: '2027-03-31T14:59:59.000Z' } });
    expect(validateRecommendation({ text: ' ', due: '' }, 'UTC', true, NOW).errors).toEqual({
      text: { key: 'validation.required' }, due_at: { key: 'validation.required' },
    });
    expect(validateRecommendation({ text: 'x', due: '2027-01-01' }, 'UTC', true, NOW).errors.due_at).toEqual({ key: 'audits.due_past' });
    // Moving an issued recommendation's date: no text, and the lead may choose any day.
    expect(validateRecommendation({ text: null, due: '2027-01-01' }, 'UTC', false, NOW))
      .toEqual({ errors: {}, body: { due_at: '2027-01-01T23:59:59.000Z' } });
  });
});

describe('the checklist', () => {
  const controls = [
    { control_id: 'ac-1', group: 'Access Control', result: 'satisfied' },
    { control_id: 'ac-1.1', group: 'Access Control', result: 'not_satisfied' },
    { control_id: 'ir-1', group: 'Incident Response', result: 'partially_satisfied' },
    { control_id: 'x-1', group: '', result: 'not_assessed' },
  ];

  it('groups controls in the catalog\'s order', () => {
    expect(groupControls(controls).map((g) => [g.group, g.controls.map((c) => c.control_id)])).toEqual([
      ['Access Control', ['ac-1', 'ac-1.1']], ['Incident Response', ['ir-1']], ['', ['x-1']],
    ]);
  });

  it('indents by depth, deep enhancements sharing the last step', () => {
    expect([0, 1, 2, 7, -1].map(depthClass)).toEqual(['depth-0', 'depth-1', 'depth-2', 'depth-4', 'depth-0']);
  });

  it('finds the controls not satisfied that still lack a finding', () => {
    expect(controlsNeedingFindings(controls, [{ control_id: 'ir-1' }])).toEqual(['ac-1.1']);
    expect(controlsNeedingFindings(controls, [{ control_id: 'ir-1' }, { control_id: 'ac-1.1' }])).toEqual([]);
  });

  it('splits the progress bar by result, what is not assessed last', () => {
    expect(progressSegments({ controls: 10, assessed: 6, satisfied: 3, partially_satisfied: 1, not_satisfied: 1, not_applicable: 1 }))
      .toEqual([
        { result: 'satisfied', count: 3 }, { result: 'partially_satisfied', count: 1 }, { result: 'not_satisfied', count: 1 },
        { result: 'not_applicable', count: 1 }, { result: 'not_assessed', count: 4 },
      ]);
  });
});

describe('the recommendations owed across audits', () => {
  it('asks for what is still awaited unless told otherwise', () => {
    expect(owedQuery({})).toEqual({ limit: 200, status: 'open,in_progress' });
    expect(owedQuery({ status: '', overdue: '', org: '' })).toEqual({ limit: 200, status: 'open,in_progress' });
  });

  it('passes one status, any status, the overdue flag and the organisation', () => {
    expect(owedQuery({ status: 'implemented' })).toEqual({ limit: 200, status: 'implemented' });
    expect(owedQuery({ status: 'any', overdue: 'true', org: 'org-1' }, 50)).toEqual({ limit: 50, overdue: 'true', auditee_org_id: 'org-1' });
    expect(owedQuery({ overdue: 'false' })).toEqual({ limit: 200, status: 'open,in_progress' });
  });
});
