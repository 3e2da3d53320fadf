// Shapes of the API's answers, as the console reads them (src/http/api_*.cpp, docs/console.md).
// Only the members the console uses are listed.

export interface Organization {
  id: string;
  name: string;
  name_ja: string | null;
  type: string;
  sector: string | null;
  contact_email: string | null;
  created_at: string;
}

export interface User {
  id: string;
  username: string;
  display_name: string;
  email: string | null;
  org_id: string;
  roles: string[];
  locale: 'en' | 'ja';
  time_zone: string;
  disabled: boolean;
  created_at: string;
}

export interface Me {
  user: User;
  organization: Organization | null;
  roles: string[];
  locale: 'en' | 'ja';
  time_zone: string;
  csrf_token: string | null;
}

export interface Priority {
  level: number;
  name: string;
  color: string;
  significant: boolean;
}

export interface ScoreFactor {
  factor: string;
  value: string;
  points: number | null;
  weight: number;
  contribution: number;
  included: boolean;
}

export interface IncidentSummary {
  id: string;
  reference: string;
  title: string;
  status: string;
  category: string;
  tlp: string;
  owner_org_id: string;
  score: { value: number; priority: Priority };
  detected_at: string;
  created_at: string;
  updated_at: string;
}

export interface ResolvedTechnique {
  id: string;
  known: boolean;
  name: string | null;
  url?: string | null;
}

export interface Incident extends IncidentSummary {
  description: string;
  author_id: string;
  techniques: string[];
  techniques_resolved?: ResolvedTechnique[];
  functional_impact: string;
  information_impact: string;
  recoverability: string;
  location: string;
  location_name: string;
  observed_activity: string | null;
  actor_characterization: string | null;
  cross_sector_dependency: string | null;
  potential_impact: string | null;
  attack_vector: string | null;
  occurred_at: string | null;
  systems_affected: number | null;
  records_affected: number | null;
  users_affected: number | null;
  indicators: { type: string; value: string }[];
  mitigations: string | null;
  point_of_contact: { name: string; email: string; phone: string | null };
  score: { value: number; priority: Priority; method: string; factors: ScoreFactor[] };
  assignees: string[];
  links: { incident_id: string; reference: string; title: string; relation: string; created_at: string }[];
  attachments: Attachment[];
  alerts?: { id: string; title: string; level: string; kind: string; org_id: string; event_time: string }[];
  version: number;
}

export interface Attachment {
  id: string;
  filename: string;
  content_type: string;
  size: number;
  sha256: string;
  uploaded_by: string;
  created_at: string;
  url: string;
}

export interface HistoryEntry {
  id: string;
  at: string;
  actor_id: string;
  kind: string;
  from_status: string | null;
  to_status: string | null;
  detail: Record<string, unknown>;
}

export interface Comment {
  id: string;
  author_id: string;
  body: string;
  created_at: string;
}

export interface Alert {
  id: string;
  kind: string;
  org_id: string;
  rule: { id: string; title: string; level: string };
  techniques: string[];
  techniques_resolved?: ResolvedTechnique[];
  tags: string[];
  event_time: string;
  // Events the alert stands for: the first and its repeats (same rule or indicator,
  // organisation and host within the fold window), the last of them at last_event_time.
  occurrences: number;
  last_event_time: string;
  detected_at: string;
  logsource: string;
  sensor_id: string;
  group: Record<string, string> | null;
  campaign_id: string | null;
  status: string;
  resolution: string | null;
  reason: string | null;
  assignee_id: string | null;
  incident_id: string | null;
  acknowledged_at: string | null;
  closed_at: string | null;
  details?: Record<string, unknown> | null;
  created_at: string;
}

export interface Acknowledgement {
  org_id: string;
  org_name?: string;
  acknowledged: boolean;
  acknowledged_at: string | null;
  user_id: string | null;
}

export interface Advisory {
  id: string;
  reference: string;
  title: string;
  body: string;
  severity: string;
  tlp: string;
  owner_org_id: string;
  author_id: string;
  target: { kind: string; org_id?: string; sector?: string };
  references: string[];
  cves: string[];
  ttps: string[];
  created_at: string;
  acknowledgement: Acknowledgement | null;
  pending_count?: number;
  recipient_org_ids?: string[];
  acknowledgements?: Acknowledgement[];
  pending?: { org_id: string; org_name: string }[];
}

export interface MaterialsRequest {
  id: string;
  reference: string;
  direction: string;
  legal_basis: string;
  tlp: string;
  owner_org_id: string;
  author_id: string;
  requester_org_id: string;
  target_org_id: string;
  title: string;
  body: string;
  due_at: string | null;
  status: string;
  overdue: boolean;
  created_at: string;
  answered_at: string | null;
  assignees: string[];
  responses?: {
    id: string;
    author_id: string;
    org_id: string;
    body: string;
    created_at: string;
    attachments: { id: string; filename: string; size: number; sha256: string; uploaded_at: string }[];
  }[];
}

export interface Recommendation {
  id: string;
  reference: string;
  tlp: string;
  owner_org_id: string;
  target_org_id: string;
  title: string;
  body: string;
  due_at: string | null;
  status: string;
  overdue: boolean;
  response: string | null;
  responded_by: string | null;
  responded_at: string | null;
  follow_up_notes: string | null;
  created_at: string;
}

export interface Job {
  id: string;
  kind: string;
  state: 'running' | 'succeeded' | 'failed';
  progress: { done: number; total: number; unit: string };
  message: string;
  error: string;
  result: Record<string, unknown> | null;
  started_at: string;
  finished_at: string | null;
  owner_user_id: string;
}

export interface LevelCounts {
  critical?: number;
  high?: number;
  medium?: number;
  low?: number;
  informational?: number;
}

export interface OrgCount { id: string; name: string; sector: string | null; count: number }
export interface SectorCount { sector: string | null; count: number }

export interface Overview {
  from: string;
  to: string;
  bucket: 'day' | 'hour';
  alerts: {
    total: number;
    open: number;
    series: { t: string; count: number; by_level: LevelCounts }[];
    by_level: LevelCounts;
    by_organization: OrgCount[];
    by_sector: SectorCount[];
  };
  incidents: {
    total: number;
    open: number;
    series: { t: string; count: number }[];
    by_status: Record<string, number>;
    by_organization: OrgCount[];
    by_sector: SectorCount[];
  };
  requests: { open: number; overdue: number };
  recommendations: { open: number; overdue: number };
  advisories: { unacknowledged: number };
}

export interface Heatmap {
  dimension: string;
  source: string;
  buckets: { key: string; label: string; alerts: number; incidents: number; count: number }[];
  techniques: { id: string; name: string | null; alerts: number; incidents: number; count: number }[];
  cells: { technique: string; bucket: string; alerts: number; incidents: number; count: number }[];
}

export interface RuleItem {
  id: string;
  title: string;
  level: string;
  status: string;
  kind: string;
  logsource: { product?: string; category?: string; service?: string };
  tags: string[];
  techniques: string[];
  path: string;
  hits: number;
  last_hit_at: string | null;
}

export interface RuleList {
  generation: number;
  loaded_at: string | null;
  rule_count: number;
  // What the service's tuning did: rules left out (exclude_rules, exclude_rule_lists) and rules
  // whose level level_overrides changed.
  tuning?: { left_out: number; relevelled: number };
  detection: boolean;
  failures: { path: string; line?: number | null; message: string }[];
  // Set when the last reload failed and the rule set above kept running.
  last_reload_failure?: { at: string; message: string } | null;
  items: RuleItem[];
  next_cursor: string | null;
}

// Investigations (src/http/api_cases.cpp).
export interface CaseSummary {
  id: string;
  reference: string;
  title: string;
  status: string;
  tlp: string;
  my_role: string;
  created_at: string;
  updated_at: string;
}

export interface CaseMember {
  user_id: string;
  username: string;
  display_name: string;
  role: string;
  added_by: string;
  added_at: string;
}

export interface CaseLink {
  type: 'incident' | 'alert';
  id: string;
  title: string;
  reference: string | null;
  status: string;
  level: string;
  org_id: string;
  at: string;
  host: string | null;
  techniques: string[];
  note: string;
  added_by: string;
  added_at: string;
}

export interface Case {
  id: string;
  reference: string;
  title: string;
  summary: string;
  status: string;
  tlp: string;
  opened_by: string;
  conclusion: string | null;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  version: number;
  my_role: string | null;
  members: CaseMember[];
  links: CaseLink[];
  hidden_links: number;
  counts: { evidence: number; timeline_entries: number };
}

export interface CaseHistoryEntry {
  id: string;
  at: string;
  actor_id: string;
  kind: string;
  detail: Record<string, unknown>;
}

export interface Evidence {
  id: string;
  case_id: string;
  number: number;
  reference: string;
  label: string;
  description: string;
  kind: string;
  source_org_id: string | null;
  source_host: string | null;
  acquired_at: string;
  acquired_by: string;
  acquisition_method: string | null;
  sha256: string | null;
  sha1: string | null;
  md5: string | null;
  size: number | null;
  seal: string | null;
  status: string;
  holder: string;
  location: string | null;
  has_content: boolean;
  filename: string | null;
  content_type: string | null;
  custody_events: number;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export interface CustodyEvent {
  id: string;
  seq: number;
  action: string;
  at: string;
  recorded_at: string;
  recorded_by: string;
  holder_from: string;
  holder_to: string;
  location: string | null;
  purpose: string;
  seal: string | null;
  sha256_observed: string | null;
  outcome: string | null;
  detail: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

export interface EvidenceIntegrity {
  intact: boolean;
  chain: { intact: boolean; events: number; first_bad_seq: number | null; problem: string | null };
  registration: { intact: boolean; problem: string | null };
  content: { stored: boolean; matches: boolean | null; sha256: string | null };
}

export interface TimelineEntry {
  id: string;
  at: string;
  kind: string;
  title: string;
  detail: string;
  host: string;
  account: string;
  source: string;
  level: string;
  techniques: string[];
  origin: 'written' | 'imported' | 'linked';
  import_id: string | null;
  created_by: string | null;
  created_at: string;
}

/** GET /api/v1/events: one raw event from the event store. */
export interface StoredEvent {
  seq: number;
  time: string;
  received_at: string;
  org_id: string;
  host: string | null;
  sensor_id: string;
  logsource: string | null;
  transport: string;
  peer: string;
  kind: 'json' | 'syslog' | 'line';
  payload: string;
  event: Record<string, unknown> | null;
  tlp: 'amber';
}

export interface TimelineImport {
  id: string;
  source: string;
  format: string;
  entries: number;
  first_at: string;
  last_at: string;
  sha256: string;
  imported_by: string;
  imported_at: string;
}

/** GET /api/v1/cases/candidates: the centre's active staff a lead may make members. */
export interface CaseCandidate {
  user_id: string;
  username: string;
  display_name: string;
  roles: string[];
}

// Standards and audits (src/http/api_audits.cpp).

/** GET /api/v1/standards: an imported OSCAL catalog. */
export interface Standard {
  id: string;
  title: string;
  version: string;
  oscal_uuid: string;
  oscal_version: string;
  published: string | null;
  source: string;
  sha256: string;
  controls: number;
  imported_by: string;
  imported_at: string;
}

/** One control of a standard, in the catalog's order; enhancements follow their control. */
export interface StandardControl {
  control_id: string;
  parent_id: string | null;
  group: string;
  label: string;
  title: string;
  class: string;
  statement: string;
  depth: number;
}

export interface StandardWithControls extends Standard {
  control_list: StandardControl[];
}

export interface AuditProgress {
  controls: number;
  assessed: number;
  satisfied: number;
  partially_satisfied: number;
  not_satisfied: number;
  not_applicable: number;
  findings: number;
  recommendations: number;
  recommendations_open: number;
  recommendations_overdue: number;
}

export interface AuditSummary {
  id: string;
  reference: string;
  title: string;
  auditee_org_id: string;
  auditee_name: string;
  standard_title: string;
  status: string;
  tlp: string;
  // The caller's role in the team; null for the audited organisation.
  my_role: string | null;
  planned_end: string | null;
  created_at: string;
  updated_at: string;
  progress: AuditProgress;
}

export interface AuditMember {
  user_id: string;
  username: string;
  display_name: string;
  role: string;
  added_at: string;
}

export interface Audit extends AuditSummary {
  objectives: string;
  standard_id: string;
  planned_start: string | null;
  conclusion: string | null;
  issued_at: string | null;
  closed_at: string | null;
  version: number;
  // Both empty or null for the audited organisation, which reads the report, not who wrote it.
  opened_by: string | null;
  members: AuditMember[];
}

/** GET /api/v1/audits/{id}/controls: a control in scope with its assessment. */
export interface AuditControl extends StandardControl {
  result: string;
  methods: string[];
  note: string;
  assessed_by: string | null;
  assessed_at: string | null;
}

export interface AuditFinding {
  id: string;
  number: number;
  reference: string;
  control_id: string;
  title: string;
  description: string;
  risk: string;
  created_by: string;
  created_at: string;
  updated_at: string;
}

export interface AuditFollowUp {
  id: string;
  seq: number;
  at: string;
  actor_id: string;
  actor_org_id: string;
  from: string;
  to: string;
  note: string;
}

export interface AuditRecommendation {
  id: string;
  finding_id: string;
  number: number;
  reference: string;
  text: string;
  due_at: string;
  status: string;
  overdue: boolean;
  created_by: string;
  created_at: string;
  updated_at: string;
  follow_ups: AuditFollowUp[];
  // Oldest first.
  attachments: AuditAttachment[];
}

/** A file attached to a recommendation: the organisation's proof, the team's working paper. */
export interface AuditAttachment {
  id: string;
  filename: string;
  content_type: string;
  size: number;
  sha256: string;
  uploaded_by: string;
  uploaded_by_org_id: string;
  uploaded_at: string;
}

/** GET /api/v1/audits/recommendations: a recommendation with its finding and audit. */
export interface AuditRecommendationItem {
  id: string;
  reference: string;
  text: string;
  due_at: string;
  status: string;
  overdue: boolean;
  updated_at: string;
  finding: { id: string; reference: string; control_id: string; title: string; risk: string };
  audit: { id: string; reference: string; title: string; status: string; auditee_org_id: string; auditee_name: string };
}

export interface AuditResults {
  findings: AuditFinding[];
  recommendations: AuditRecommendation[];
}

export interface AuditHistoryEntry {
  id: string;
  at: string;
  actor_id: string;
  kind: string;
  detail: Record<string, unknown>;
}
