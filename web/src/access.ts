// What the signed-in user is shown and offered, derived from GET /auth/me (roles and the
// organisation's type). It mirrors docs/access-policy.md so that the console never offers an
// action the server would refuse; the server still decides (a hidden button is convenience,
// not security). Everything about roles lives here, so the rules can be read and tested in one
// place (access.test.ts).
import type { Me } from './types';

export type PageName =
  | 'overview' | 'alerts' | 'incidents' | 'cases' | 'events' | 'advisories' | 'requests' | 'recommendations'
  | 'audits' | 'standards' | 'organizations' | 'users' | 'sensors' | 'intel' | 'rules' | 'audit' | 'settings';

// Navigation order.
export const PAGE_ORDER: PageName[] = [
  'overview', 'alerts', 'incidents', 'cases', 'events', 'advisories', 'requests', 'recommendations', 'audits', 'standards',
  'intel', 'rules', 'organizations', 'users', 'sensors', 'audit', 'settings',
];

export interface Access {
  centre: boolean;
  orgType: string;
  orgId: string;
  userId: string;
  pages: Set<PageName>;
  // Global actions (per-object ones are the functions below).
  reportIncident: boolean;
  reportForOtherOrgs: boolean;
  triageAlerts: boolean;
  assignIncidents: boolean;
  issueAdvisory: boolean;
  createRequest: boolean;
  createInboundRequest: boolean;
  // Assigning centre staff to a request (they then read it whatever its TLP below RED).
  assignRequests: boolean;
  issueRecommendation: boolean;
  updateRecommendation: boolean;
  manageOrganizations: boolean;
  manageUsers: boolean;
  manageAllUsers: boolean;
  reloadRules: boolean;
  pullFeeds: boolean;
  // The centre's TAXII collections: creating them and granting access, and publishing to them.
  manageCollections: boolean;
  publishIntel: boolean;
  export: boolean;
  // Opening an investigation (the opener becomes its lead; hub::can::OpenCase).
  openCase: boolean;
  // Raw events from the event store (hub::can::ReadRawEvents): the centre's duty officers,
  // analysts and investigators every organisation's, an organisation's writers their own.
  readRawEvents: boolean;
  // Importing a standard (an OSCAL catalog) and opening an audit against one
  // (hub::can::ImportStandard, OpenAudit): the centre's administrators and auditors.
  importStandard: boolean;
  openAudit: boolean;
}

export const CENTRE_ROLES = ['centre_admin', 'centre_analyst', 'investigator', 'auditor'];

export function accessFor(me: Me): Access {
  const roles = new Set(me.roles);
  const orgType = me.organization?.type ?? '';
  const centre = orgType === 'centre';
  const partner = orgType === 'partner_cert';
  const has = (role: string) => roles.has(role);
  const centreAdmin = centre && has('centre_admin');
  const duty = centre && (has('centre_admin') || has('centre_analyst'));
  const orgWriter = !centre && !partner && (has('org_admin') || has('org_reporter'));
  const orgAdmin = !centre && !partner && has('org_admin');
  const member = !centre && !partner;

  const pages = new Set<PageName>(['overview', 'incidents', 'advisories', 'settings']);
  if (centre || member) pages.add('alerts');
  if (centre || member) pages.add('requests');
  if (centre || orgType === 'ministry') pages.add('recommendations');
  if (centre) {
    // Every member of the centre's staff may be made a member of a case; the list shows only
    // the cases they are members of.
    pages.add('cases');
    pages.add('intel');
    pages.add('rules');
    pages.add('organizations');
  }
  if (centreAdmin || orgAdmin) {
    pages.add('users');
    pages.add('sensors');
  }
  if (centreAdmin) pages.add('audit');
  // Audits: the centre's staff see those whose team they are on; an organisation's
  // administrators see their organisation's once the report is issued (its reporters never).
  // Standards are public documents for every member of the community, not for partners abroad.
  if (centre || orgAdmin) pages.add('audits');
  if (!partner) pages.add('standards');
  const auditor = centre && (has('centre_admin') || has('auditor'));
  const readRawEvents = (centre && (has('centre_admin') || has('centre_analyst') || has('investigator'))) || orgWriter;
  if (readRawEvents) pages.add('events');

  return {
    centre,
    orgType,
    orgId: me.user.org_id,
    userId: me.user.id,
    pages,
    reportIncident: duty || orgWriter,
    reportForOtherOrgs: duty,
    triageAlerts: duty || orgWriter,
    assignIncidents: duty,
    issueAdvisory: duty,
    createRequest: duty,
    createInboundRequest: orgType === 'local_government' && orgWriter,
    assignRequests: duty,
    issueRecommendation: centreAdmin,
    updateRecommendation: centreAdmin,
    manageOrganizations: centreAdmin,
    manageUsers: centreAdmin || orgAdmin,
    manageAllUsers: centreAdmin,
    reloadRules: centreAdmin,
    pullFeeds: centreAdmin,
    manageCollections: centreAdmin,
    publishIntel: duty,
    export: centre || member,
    openCase: centre && (has('centre_admin') || has('investigator')),
    readRawEvents,
    importStandard: auditor,
    openAudit: auditor,
  };
}

export function canSee(access: Access, page: PageName): boolean {
  return access.pages.has(page);
}

// Changing an incident's status: the duty officer, or centre staff assigned to it.
export function canTriageIncident(access: Access, me: Me, assignees: string[]): boolean {
  if (!access.centre) return false;
  return me.roles.includes('centre_admin') || assignees.includes(access.userId);
}

// Editing the report and linking alerts: the owning organisation's reporters, or triagers.
export function canEditIncident(access: Access, me: Me, ownerOrgId: string, assignees: string[]): boolean {
  if (canTriageIncident(access, me, assignees)) return true;
  return !access.centre && access.orgId === ownerOrgId &&
    (me.roles.includes('org_admin') || me.roles.includes('org_reporter'));
}

// Triage of one alert: the duty roles for every organisation, reporters for their own.
export function canTriageAlert(access: Access, alertOrgId: string): boolean {
  if (!access.triageAlerts) return false;
  return access.centre || access.orgId === alertOrgId;
}

export function canAnswerRequest(access: Access, me: Me, request: { direction: string; target_org_id: string }): boolean {
  if (request.direction === 'inbound') {
    return access.centre && (me.roles.includes('centre_admin') || me.roles.includes('centre_analyst'));
  }
  return !access.centre && access.orgId === request.target_org_id &&
    (me.roles.includes('org_admin') || me.roles.includes('org_reporter'));
}

export function isRequester(access: Access, request: { requester_org_id: string }): boolean {
  return access.orgId === request.requester_org_id;
}

export function canRespondToRecommendation(access: Access, me: Me, targetOrgId: string): boolean {
  return !access.centre && access.orgId === targetOrgId && me.roles.includes('org_admin');
}

// Roles the user may grant in an organisation of `orgType` (centre roles: centre_admin only).
export function grantableRoles(access: Access, orgType: string): string[] {
  if (!access.manageUsers) return [];
  if (orgType === 'centre') return access.manageAllUsers ? ['centre_admin', 'centre_analyst', 'investigator', 'auditor'] : [];
  if (orgType === 'partner_cert') return access.manageAllUsers ? ['partner'] : [];
  return ['org_admin', 'org_reporter'];
}

// Investigations: what a member does is the role the case gives them (hub::can::RunCase,
// WorkOnCase), and a closed case is read-only until a lead reopens it. `kase.my_role` is null
// for someone who is not a member (who never sees the case anyway).
interface CaseState { my_role: string | null; status: string }

// Title, summary, marking, adding members and changing their roles: leads, while not closed.
export function canRunCase(access: Access, kase: CaseState): boolean {
  return access.centre && kase.my_role === 'lead' && kase.status !== 'closed';
}

// Holding, closing and reopening: leads, whatever the status.
export function canChangeCaseStatus(access: Access, kase: CaseState): boolean {
  return access.centre && kase.my_role === 'lead';
}

// Removing members (not the last lead): leads, closed cases included, as the server allows.
export function canRemoveCaseMembers(access: Access, kase: CaseState): boolean {
  return access.centre && kase.my_role === 'lead';
}

// Evidence, custody, file uploads, timeline entries and imports, links: leads and members.
export function canWorkOnCase(access: Access, kase: CaseState): boolean {
  return access.centre && (kase.my_role === 'lead' || kase.my_role === 'member') && kase.status !== 'closed';
}

// Audits: the team has the cases' roles (hub::can::RunCase, WorkOnCase) and is the centre's
// staff; the audited organisation's administrators read the report once issued and answer its
// recommendations. `audit.my_role` is null for anyone not on the team.
interface AuditState { my_role: string | null; status: string }

const AUDIT_WORKING = ['fieldwork', 'reporting'];
const AUDIT_OVER = ['closed', 'cancelled'];

// On the team (whatever the role): the team's history and the team list.
export function isOnAuditTeam(access: Access, audit: AuditState): boolean {
  return access.centre && audit.my_role !== null;
}

// Moving the audit along its lifecycle: leads, whatever the status (audit_flow.ts says where to).
export function canChangeAuditStatus(access: Access, audit: AuditState): boolean {
  return access.centre && audit.my_role === 'lead';
}

// Title, objectives, marking and planned dates: leads, until the report is issued.
export function canEditAudit(access: Access, audit: AuditState): boolean {
  return canChangeAuditStatus(access, audit) && ['planning', 'fieldwork', 'reporting'].includes(audit.status);
}

// The controls in scope: leads, while planning.
export function canSetAuditScope(access: Access, audit: AuditState): boolean {
  return canChangeAuditStatus(access, audit) && audit.status === 'planning';
}

// Adding, changing and removing members: leads, until the audit is over.
export function canManageAuditTeam(access: Access, audit: AuditState): boolean {
  return canChangeAuditStatus(access, audit) && !AUDIT_OVER.includes(audit.status);
}

// Assessing controls, writing findings and recommendations: leads and members, in fieldwork and
// reporting only (readers read; the audited organisation never writes them).
export function canWorkOnAudit(access: Access, audit: AuditState): boolean {
  return access.centre && (audit.my_role === 'lead' || audit.my_role === 'member') && AUDIT_WORKING.includes(audit.status);
}

// Moving an issued recommendation's due date (an agreed extension): leads.
export function canExtendAuditRecommendation(access: Access, audit: AuditState): boolean {
  return canChangeAuditStatus(access, audit) && audit.status === 'issued';
}

// The audited organisation's administrators (hub::can::ReadIssuedAudit, AnswerAuditRecommendation).
export function isAuditeeAdmin(access: Access, me: Me, auditeeOrgId: string): boolean {
  return !access.centre && access.orgType !== 'partner_cert' && access.orgId === auditeeOrgId && me.roles.includes('org_admin');
}
