// The API's closed vocabularies, as the server spells them (src/hub/*.cpp tables). Forms offer
// these values and tEnum shows them translated; i18n.test.ts checks every value has a label in
// both languages.

export const ENUMS = {
  'org.type': ['ministry', 'independent_agency', 'critical_infrastructure', 'local_government',
    'partner_cert', 'centre'],
  role: ['centre_admin', 'centre_analyst', 'investigator', 'auditor', 'org_admin', 'org_reporter',
    'partner'],
  sector: ['information_communication', 'finance', 'aviation', 'airports', 'railways',
    'electric_power', 'gas', 'government_administrative_services', 'medical', 'water',
    'logistics', 'chemicals', 'credit_cards', 'petroleum', 'ports'],
  tlp: ['clear', 'green', 'amber', 'amber+strict', 'red'],
  'incident.status': ['reported', 'triaged', 'investigating', 'contained', 'resolved', 'closed'],
  'incident.category': ['malware', 'phishing', 'intrusion', 'ddos', 'data_leak', 'web_defacement',
    'vulnerability', 'unauthorized_access', 'insider', 'other'],
  attack_vector: ['unknown', 'attrition', 'web', 'email_phishing', 'external_removable_media',
    'impersonation_spoofing', 'improper_usage', 'loss_or_theft_of_equipment', 'other'],
  indicator_type: ['ip', 'domain', 'url', 'hash', 'email', 'file_name', 'other'],
  link_relation: ['related', 'duplicate', 'parent', 'child'],
  functional_impact: ['no_impact', 'no_impact_to_services', 'minimal_impact_to_non_critical_services',
    'minimal_impact_to_critical_services', 'significant_impact_to_non_critical_services',
    'denial_of_non_critical_services', 'significant_impact_to_critical_services',
    'denial_of_critical_services'],
  observed_activity: ['prepare', 'engage', 'presence', 'effect'],
  location: ['unsuccessful', 'business_dmz', 'business_network', 'business_network_management',
    'critical_system_dmz', 'critical_system_management', 'critical_systems', 'safety_systems',
    'unknown'],
  actor_characterization: ['unknown', 'unsophisticated', 'hacktivist', 'insider', 'criminal',
    'organized_crime', 'state_sponsored'],
  information_impact: ['none', 'suspected_but_not_identified', 'privacy_data_breach',
    'proprietary_information_breach', 'destruction_of_non_critical_systems',
    'critical_systems_data_breach', 'core_credential_compromise', 'destruction_of_critical_system'],
  recoverability: ['regular', 'supplemented', 'extended', 'not_recoverable'],
  cross_sector_dependency: ['none', 'low', 'medium', 'high'],
  potential_impact: ['none', 'low', 'medium', 'high', 'critical'],
  factor: ['functional_impact', 'observed_activity', 'location', 'actor_characterization',
    'information_impact', 'recoverability', 'cross_sector_dependency', 'potential_impact'],
  priority: ['baseline', 'low', 'medium', 'high', 'severe', 'emergency'],
  'alert.status': ['new', 'acknowledged', 'closed', 'promoted'],
  'alert.kind': ['rule', 'indicator', 'correlation', 'campaign'],
  'alert.resolution': ['true_positive', 'false_positive', 'duplicate'],
  level: ['informational', 'low', 'medium', 'high', 'critical'],
  'advisory.severity': ['info', 'low', 'medium', 'high', 'critical'],
  'advisory.target': ['organization', 'sector', 'all'],
  legal_basis: ['art30', 'art31', 'art32'],
  'request.status': ['open', 'answered', 'closed', 'withdrawn'],
  'request.direction': ['outbound', 'inbound'],
  'recommendation.status': ['issued', 'responded', 'in_progress', 'implemented', 'closed'],
  'job.state': ['running', 'succeeded', 'failed'],
  'job.kind': ['rules.reload', 'intel.pull', 'export'],
  'job.unit': ['files', 'rules', 'pages', 'objects', 'rows'],
  'rule.kind': ['detection', 'correlation'],
  'heatmap.dimension': ['organisation', 'sector', 'month'],
  'heatmap.source': ['both', 'alerts', 'incidents'],
  'incident.history': ['created', 'updated', 'transition', 'reopened', 'assigned', 'unassigned',
    'linked', 'unlinked', 'attachment_added'],
  // Investigations (src/hub/cases.cpp, evidence.cpp, case_timeline.cpp).
  'case.status': ['open', 'on_hold', 'closed'],
  'case.role': ['lead', 'member', 'reader'],
  'case.link_type': ['incident', 'alert'],
  'case.history': ['opened', 'updated', 'transition', 'reopened', 'member_added', 'member_changed',
    'member_removed', 'linked', 'unlinked', 'evidence_registered', 'custody_recorded',
    'content_added', 'evidence_accessed', 'timeline_added', 'timeline_imported', 'import_removed'],
  'case.evidence_kind': ['disk_image', 'memory_image', 'log_collection', 'network_capture',
    'mobile_device', 'document', 'malware_sample', 'physical_device', 'other'],
  'case.evidence_status': ['in_custody', 'checked_out', 'released', 'destroyed'],
  'case.custody_action': ['acquired', 'transferred', 'checked_out', 'checked_in', 'examined',
    'verified', 'copied', 'sealed', 'unsealed', 'content_added', 'accessed', 'released',
    'destroyed'],
  'case.custody_outcome': ['match', 'mismatch', 'established'],
  'case.timeline_kind': ['event', 'alert', 'incident', 'evidence', 'action', 'finding', 'note'],
  'case.timeline_origin': ['written', 'imported', 'linked'],
  'case.import_format': ['yagura-alerts', 'timesketch', 'mixed'],
  // Audits (src/hub/audits.cpp). An audit's team has the cases' roles, named for audits.
  'audit.status': ['planning', 'fieldwork', 'reporting', 'issued', 'closed', 'cancelled'],
  'audit.role': ['lead', 'member', 'reader'],
  'audit.result': ['not_assessed', 'satisfied', 'partially_satisfied', 'not_satisfied', 'not_applicable'],
  'audit.method': ['examine', 'interview', 'test'],
  'audit.risk': ['low', 'moderate', 'high', 'critical'],
  'audit.recommendation_status': ['open', 'in_progress', 'implemented', 'verified', 'risk_accepted'],
  'audit.history': ['opened', 'updated', 'scope_set', 'transition', 'member_added', 'member_changed',
    'member_removed', 'assessed', 'finding_added', 'finding_updated', 'recommendation_added',
    'recommendation_updated', 'follow_up'],
} as const;

export type EnumGroup = keyof typeof ENUMS;

export function values(group: EnumGroup): readonly string[] {
  return ENUMS[group];
}

// Roles an organisation of this type may hold (hub/identity.cpp: centre roles only in the
// centre, `partner` only in partner CERTs and nowhere else).
export function rolesForOrgType(type: string): string[] {
  if (type === 'centre') return ['centre_admin', 'centre_analyst', 'investigator', 'auditor'];
  if (type === 'partner_cert') return ['partner'];
  return ['org_admin', 'org_reporter'];
}
