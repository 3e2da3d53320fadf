import { describe, expect, it } from 'vitest';
import {
  accessFor, canAnswerRequest, canChangeAuditStatus, canChangeCaseStatus, canEditAudit, canEditIncident, canExtendAuditRecommendation,
  canManageAuditTeam, canRemoveCaseMembers, canRespondToRecommendation, canRunCase, canSetAuditScope, canTriageAlert,
  canTriageIncident, canWorkOnAudit, canWorkOnCase, grantableRoles, isAuditeeAdmin, isOnAuditTeam, PAGE_ORDER, type PageName,
} from '../access';
import type { Me } from '../types';

function me(orgType: string, roles: string[], orgId = `org-${orgType}`, userId = 'u1'): Me {
  return {
    user: { id: userId, username: 'x', display_name: 'X', email: null, org_id: orgId, roles, locale: 'en', time_zone: 'Asia/Tokyo', disabled: false, created_at: '' },
    organization: { id: orgId, name: 'Org', name_ja: null, type: orgType, sector: null, contact_email: null, created_at: '' },
    roles,
    locale: 'en',
    time_zone: 'Asia/Tokyo',
    csrf_token: 't',
  };
}

const pages = (m: Me) => PAGE_ORDER.filter((p) => accessFor(m).pages.has(p));

describe('pages by role and organisation', () => {
  it('shows the centre administrator everything', () => {
    expect(pages(me('centre', ['centre_admin']))).toEqual(PAGE_ORDER);
  });

  it('shows a centre analyst the centre pages but not administration of users or the audit log', () => {
    const list = pages(me('centre', ['centre_analyst']));
    expect(list).toEqual(expect.arrayContaining<PageName>(['alerts', 'incidents', 'intel', 'rules', 'organizations']));
    expect(list).not.toContain('users');
    expect(list).not.toContain('audit');
  });

  it('shows a ministry reporter its own work, recommendations, the standards, and no centre tools', () => {
    const list = pages(me('ministry', ['org_reporter']));
    expect(list).toEqual(['overview', 'alerts', 'incidents', 'events', 'advisories', 'requests', 'recommendations', 'standards', 'settings']);
  });

  it('shows audits to the centre\'s staff and to organisations\' administrators, never to reporters or partners', () => {
    for (const role of ['centre_admin', 'centre_analyst', 'investigator', 'auditor']) {
      expect(pages(me('centre', [role]))).toContain('audits');
    }
    for (const type of ['ministry', 'independent_agency', 'critical_infrastructure', 'local_government']) {
      expect(pages(me(type, ['org_admin']))).toContain('audits');
      expect(pages(me(type, ['org_reporter']))).not.toContain('audits');
    }
    expect(pages(me('partner_cert', ['partner']))).not.toContain('audits');
  });

  it('shows the standards to every member of the community but not to partners abroad', () => {
    for (const [type, role] of [['centre', 'auditor'], ['centre', 'centre_analyst'], ['ministry', 'org_admin'], ['local_government', 'org_reporter']]) {
      expect(pages(me(type, [role]))).toContain('standards');
    }
    expect(pages(me('partner_cert', ['partner']))).not.toContain('standards');
  });

  it('shows raw events to those the server lets read them (hub::can::ReadRawEvents)', () => {
    for (const role of ['centre_admin', 'centre_analyst', 'investigator']) {
      expect(accessFor(me('centre', [role])).readRawEvents).toBe(true);
      expect(pages(me('centre', [role]))).toContain('events');
    }
    expect(pages(me('centre', ['auditor']))).not.toContain('events');
    expect(pages(me('ministry', ['org_admin']))).toContain('events');
    expect(pages(me('partner_cert', ['partner']))).not.toContain('events');
    expect(accessFor(me('partner_cert', ['partner'])).readRawEvents).toBe(false);
  });

  it('hides recommendations from organisations that cannot receive them', () => {
    expect(pages(me('critical_infrastructure', ['org_admin']))).not.toContain('recommendations');
    expect(pages(me('local_government', ['org_reporter']))).not.toContain('recommendations');
  });

  it('gives organisation administrators their users page', () => {
    expect(pages(me('local_government', ['org_admin']))).toContain('users');
    expect(pages(me('local_government', ['org_reporter']))).not.toContain('users');
  });

  it('lets only administrators manage sensor tokens (the server\'s ManageUsersOf)', () => {
    expect(pages(me('centre', ['centre_admin']))).toContain('sensors');
    expect(pages(me('critical_infrastructure', ['org_admin']))).toContain('sensors');
    expect(pages(me('centre', ['centre_analyst']))).not.toContain('sensors');
    expect(pages(me('ministry', ['org_reporter']))).not.toContain('sensors');
    expect(pages(me('partner_cert', ['partner']))).not.toContain('sensors');
  });

  it('shows a partner CERT only what can be shared with it', () => {
    expect(pages(me('partner_cert', ['partner']))).toEqual(['overview', 'incidents', 'advisories', 'settings']);
  });
});

describe('actions', () => {
  it('lets reporters and the duty roles report incidents, but not auditors or partners', () => {
    expect(accessFor(me('ministry', ['org_reporter'])).reportIncident).toBe(true);
    expect(accessFor(me('centre', ['centre_analyst'])).reportIncident).toBe(true);
    expect(accessFor(me('centre', ['centre_analyst'])).reportForOtherOrgs).toBe(true);
    expect(accessFor(me('ministry', ['org_reporter'])).reportForOtherOrgs).toBe(false);
    expect(accessFor(me('centre', ['auditor'])).reportIncident).toBe(false);
    expect(accessFor(me('partner_cert', ['partner'])).reportIncident).toBe(false);
  });

  it('issues advisories and requests only from the centre; recommendations only by its administrators', () => {
    const analyst = accessFor(me('centre', ['centre_analyst']));
    expect(analyst.issueAdvisory && analyst.createRequest).toBe(true);
    expect(analyst.issueRecommendation).toBe(false);
    expect(accessFor(me('centre', ['centre_admin'])).issueRecommendation).toBe(true);
    expect(accessFor(me('ministry', ['org_admin'])).issueAdvisory).toBe(false);
  });

  it('lets only local governments ask the centre (art. 32)', () => {
    expect(accessFor(me('local_government', ['org_reporter'])).createInboundRequest).toBe(true);
    expect(accessFor(me('ministry', ['org_reporter'])).createInboundRequest).toBe(false);
  });

  it('lets the duty roles assign centre staff to requests (the server\'s AssignRequest)', () => {
    expect(accessFor(me('centre', ['centre_admin'])).assignRequests).toBe(true);
    expect(accessFor(me('centre', ['centre_analyst'])).assignRequests).toBe(true);
    expect(accessFor(me('centre', ['investigator'])).assignRequests).toBe(false);
    expect(accessFor(me('local_government', ['org_admin'])).assignRequests).toBe(false);
    expect(accessFor(me('partner_cert', ['partner'])).assignRequests).toBe(false);
  });

  it('manages TAXII collections as centre administrator; publishes as a duty role', () => {
    expect(accessFor(me('centre', ['centre_admin'])).manageCollections).toBe(true);
    expect(accessFor(me('centre', ['centre_analyst'])).manageCollections).toBe(false);
    expect(accessFor(me('centre', ['centre_analyst'])).publishIntel).toBe(true);
    expect(accessFor(me('centre', ['auditor'])).publishIntel).toBe(false);
    expect(accessFor(me('ministry', ['org_admin'])).publishIntel).toBe(false);
  });

  it('reloads rules and pulls feeds only as centre administrator', () => {
    expect(accessFor(me('centre', ['centre_admin'])).reloadRules).toBe(true);
    expect(accessFor(me('centre', ['centre_analyst'])).reloadRules).toBe(false);
    expect(accessFor(me('centre', ['centre_analyst'])).pullFeeds).toBe(false);
  });

  it('triages an incident as duty officer or as assigned centre staff', () => {
    const analyst = me('centre', ['centre_analyst'], 'c', 'a1');
    expect(canTriageIncident(accessFor(analyst), analyst, [])).toBe(false);
    expect(canTriageIncident(accessFor(analyst), analyst, ['a1'])).toBe(true);
    const admin = me('centre', ['centre_admin']);
    expect(canTriageIncident(accessFor(admin), admin, [])).toBe(true);
    const reporter = me('ministry', ['org_reporter'], 'm', 'r1');
    expect(canTriageIncident(accessFor(reporter), reporter, ['r1'])).toBe(false);
  });

  it('edits a report as its organisation or as a triager', () => {
    const reporter = me('ministry', ['org_reporter'], 'm');
    expect(canEditIncident(accessFor(reporter), reporter, 'm', [])).toBe(true);
    expect(canEditIncident(accessFor(reporter), reporter, 'other', [])).toBe(false);
  });

  it('triages alerts of the own organisation, or any as duty staff', () => {
    const reporter = me('ministry', ['org_reporter'], 'm');
    expect(canTriageAlert(accessFor(reporter), 'm')).toBe(true);
    expect(canTriageAlert(accessFor(reporter), 'x')).toBe(false);
    expect(canTriageAlert(accessFor(me('centre', ['centre_analyst'])), 'x')).toBe(true);
    expect(canTriageAlert(accessFor(me('centre', ['investigator'])), 'x')).toBe(false);
  });

  it('answers requests as the addressed organisation, and art. 32 requests as the centre', () => {
    const reporter = me('ministry', ['org_reporter'], 'm');
    expect(canAnswerRequest(accessFor(reporter), reporter, { direction: 'outbound', target_org_id: 'm' })).toBe(true);
    expect(canAnswerRequest(accessFor(reporter), reporter, { direction: 'outbound', target_org_id: 'n' })).toBe(false);
    const analyst = me('centre', ['centre_analyst']);
    expect(canAnswerRequest(accessFor(analyst), analyst, { direction: 'inbound', target_org_id: 'c' })).toBe(true);
    expect(canAnswerRequest(accessFor(analyst), analyst, { direction: 'outbound', target_org_id: 'c' })).toBe(false);
  });

  it('responds to a recommendation as the addressed ministry’s administrator only', () => {
    const admin = me('ministry', ['org_admin'], 'm');
    const reporter = me('ministry', ['org_reporter'], 'm');
    expect(canRespondToRecommendation(accessFor(admin), admin, 'm')).toBe(true);
    expect(canRespondToRecommendation(accessFor(reporter), reporter, 'm')).toBe(false);
  });

  it('shows cases to the centre\'s staff only, and lets administrators and investigators open them', () => {
    for (const role of ['centre_admin', 'centre_analyst', 'investigator', 'auditor']) {
      expect(pages(me('centre', [role]))).toContain('cases');
    }
    for (const [type, role] of [['ministry', 'org_admin'], ['local_government', 'org_reporter'], ['partner_cert', 'partner']]) {
      expect(pages(me(type, [role]))).not.toContain('cases');
    }
    expect(accessFor(me('centre', ['centre_admin'])).openCase).toBe(true);
    expect(accessFor(me('centre', ['investigator'])).openCase).toBe(true);
    expect(accessFor(me('centre', ['centre_analyst'])).openCase).toBe(false);
    expect(accessFor(me('centre', ['auditor'])).openCase).toBe(false);
    expect(accessFor(me('ministry', ['org_admin'])).openCase).toBe(false);
  });

  it('lets a case\'s role decide what a member does, and a closed case be read only', () => {
    const access = accessFor(me('centre', ['investigator']));
    const open = (role: string | null) => ({ my_role: role, status: 'open' });
    const closed = (role: string | null) => ({ my_role: role, status: 'closed' });
    expect([canRunCase(access, open('lead')), canRunCase(access, open('member')), canRunCase(access, closed('lead'))]).toEqual([true, false, false]);
    expect([canWorkOnCase(access, open('lead')), canWorkOnCase(access, open('member')), canWorkOnCase(access, open('reader'))]).toEqual([true, true, false]);
    expect(canWorkOnCase(access, closed('member'))).toBe(false);
    expect(canWorkOnCase(access, { my_role: 'member', status: 'on_hold' })).toBe(true);
    // Reopening and removing members stay the leads', closed or not.
    expect(canChangeCaseStatus(access, closed('lead'))).toBe(true);
    expect(canChangeCaseStatus(access, open('member'))).toBe(false);
    expect(canRemoveCaseMembers(access, closed('lead'))).toBe(true);
    expect(canRemoveCaseMembers(access, open('reader'))).toBe(false);
    // A membership outside the centre (someone moved away) gives nothing.
    expect(canWorkOnCase(accessFor(me('ministry', ['org_admin'])), open('lead'))).toBe(false);
    expect(canRunCase(access, open(null))).toBe(false);
  });

  it('lets the centre\'s administrators and auditors import standards and open audits (hub::can::ImportStandard, OpenAudit)', () => {
    for (const role of ['centre_admin', 'auditor']) {
      const access = accessFor(me('centre', [role]));
      expect([access.importStandard, access.openAudit]).toEqual([true, true]);
    }
    for (const [type, role] of [['centre', 'centre_analyst'], ['centre', 'investigator'], ['ministry', 'org_admin'], ['partner_cert', 'partner']]) {
      const access = accessFor(me(type, [role]));
      expect([access.importStandard, access.openAudit]).toEqual([false, false]);
    }
    // An "auditor" role outside the centre (which the server would not grant) gives nothing.
    expect(accessFor(me('ministry', ['auditor'])).openAudit).toBe(false);
  });

  it('lets an audit\'s role and status decide what its team does', () => {
    const access = accessFor(me('centre', ['auditor']));
    const audit = (role: string | null, status: string) => ({ my_role: role, status });
    // Leads run the audit: its status always, its details until issued, its scope while planning,
    // its team until it is over.
    expect(canChangeAuditStatus(access, audit('lead', 'issued'))).toBe(true);
    expect(canChangeAuditStatus(access, audit('member', 'fieldwork'))).toBe(false);
    expect(['planning', 'fieldwork', 'reporting', 'issued', 'closed', 'cancelled'].map((s) => canEditAudit(access, audit('lead', s))))
      .toEqual([true, true, true, false, false, false]);
    expect(['planning', 'fieldwork'].map((s) => canSetAuditScope(access, audit('lead', s)))).toEqual([true, false]);
    expect(canSetAuditScope(access, audit('member', 'planning'))).toBe(false);
    expect(['planning', 'issued', 'closed', 'cancelled'].map((s) => canManageAuditTeam(access, audit('lead', s))))
      .toEqual([true, true, false, false]);
    // Leads and members assess and write findings in fieldwork and reporting only; readers read.
    expect(['planning', 'fieldwork', 'reporting', 'issued'].map((s) => canWorkOnAudit(access, audit('member', s))))
      .toEqual([false, true, true, false]);
    expect(canWorkOnAudit(access, audit('lead', 'reporting'))).toBe(true);
    expect(canWorkOnAudit(access, audit('reader', 'fieldwork'))).toBe(false);
    expect(canWorkOnAudit(access, audit(null, 'fieldwork'))).toBe(false);
    // After issue, only a lead moves a due date.
    expect(canExtendAuditRecommendation(access, audit('lead', 'issued'))).toBe(true);
    expect(canExtendAuditRecommendation(access, audit('member', 'issued'))).toBe(false);
    expect(canExtendAuditRecommendation(access, audit('lead', 'reporting'))).toBe(false);
    expect([isOnAuditTeam(access, audit('reader', 'issued')), isOnAuditTeam(access, audit(null, 'issued'))]).toEqual([true, false]);
    // A role outside the centre gives nothing.
    const orgAdmin = accessFor(me('ministry', ['org_admin']));
    expect(canWorkOnAudit(orgAdmin, audit('lead', 'fieldwork'))).toBe(false);
    expect(canChangeAuditStatus(orgAdmin, audit('lead', 'reporting'))).toBe(false);
    expect(isOnAuditTeam(orgAdmin, audit('lead', 'issued'))).toBe(false);
  });

  it('answers an audit\'s recommendations as the audited organisation\'s administrator only', () => {
    const admin = me('ministry', ['org_admin'], 'm');
    const reporter = me('ministry', ['org_reporter'], 'm');
    const centre = me('centre', ['centre_admin'], 'm');
    expect(isAuditeeAdmin(accessFor(admin), admin, 'm')).toBe(true);
    expect(isAuditeeAdmin(accessFor(admin), admin, 'other')).toBe(false);
    expect(isAuditeeAdmin(accessFor(reporter), reporter, 'm')).toBe(false);
    expect(isAuditeeAdmin(accessFor(centre), centre, 'm')).toBe(false);
  });

  it('grants centre roles only as centre administrator', () => {
    expect(grantableRoles(accessFor(me('centre', ['centre_admin'])), 'centre')).toContain('centre_analyst');
    expect(grantableRoles(accessFor(me('ministry', ['org_admin'])), 'ministry')).toEqual(['org_admin', 'org_reporter']);
    expect(grantableRoles(accessFor(me('ministry', ['org_admin'])), 'centre')).toEqual([]);
    expect(grantableRoles(accessFor(me('ministry', ['org_reporter'])), 'ministry')).toEqual([]);
  });
});
