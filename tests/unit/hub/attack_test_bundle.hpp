// A small hand-written ATT&CK bundle whose every count is known, for the catalogue's hub and
// API tests. Enterprise domain:
//   tactics      TA0001 initial-access (1st in the matrix), TA0006 credential-access (2nd)
//   techniques   T1078 Valid Accounts (initial-access), T1110 Brute Force (credential-access),
//                T1110.001 Password Guessing (sub-technique of T1110), T1000 (revoked, replaced
//                by T1110), T1999 (deprecated)
//   group        G0001 "Example Panda" (alias "Testers"), using T1110 and S0001
//   software     S0001 ExampleRAT (malware, uses T1110.001), S0002 ExampleTool (tool)
//   campaign     C0001 attributed to G0001
//   mitigations  M1032 (mitigates T1110) and a deprecated course of action whose id is T1110,
//                as old ATT&CK releases had
//   relationships 7 current (subtechnique-of, 2 x uses by G0001, uses by S0001, mitigates,
//                revoked-by, attributed-to) and one revoked, which is not imported
//   skipped      identity, marking definition, collection
#pragma once

#include <string>

namespace yagura::hub::testing {

// `brute_force_name` renames T1110, to tell a re-import's rows from the first one's.
inline std::string SmallAttackBundle(const std::string& brute_force_name = "Brute Force") {
  std::string text = R"json({
  "type": "bundle",
  "id": "bundle--00000000-0000-4000-8000-000000000001",
  "objects": [
    {"type": "x-mitre-collection", "id": "x-mitre-collection--1", "name": "Enterprise ATT&CK",
     "x_mitre_version": "99.1", "created": "2025-01-01T00:00:00.000Z", "modified": "2025-01-01T00:00:00.000Z"},
    {"type": "identity", "id": "identity--1", "name": "The MITRE Corporation"},
    {"type": "marking-definition", "id": "marking-definition--1"},
    {"type": "x-mitre-matrix", "id": "x-mitre-matrix--1", "name": "Enterprise ATT&CK",
     "external_references": [{"source_name": "mitre-attack", "external_id": "enterprise-attack",
       "url": "https://attack.mitre.org/matrices/enterprise"}],
     "tactic_refs": ["x-mitre-tactic--ia", "x-mitre-tactic--ca"],
     "created": "2018-10-17T00:14:20.652Z", "modified": "2025-04-25T14:45:32.408Z"},
    {"type": "x-mitre-tactic", "id": "x-mitre-tactic--ca", "name": "Credential Access",
     "description": "The adversary is trying to steal account names and passwords.",
     "x_mitre_shortname": "credential-access", "x_mitre_domains": ["enterprise-attack"],
     "external_references": [{"source_name": "mitre-attack", "external_id": "TA0006",
       "url": "https://attack.mitre.org/tactics/TA0006"}],
     "created": "2018-10-17T00:14:20.652Z", "modified": "2025-04-25T14:45:32.408Z", "x_mitre_version": "1.0"},
    {"type": "x-mitre-tactic", "id": "x-mitre-tactic--ia", "name": "Initial Access",
     "description": "The adversary is trying to get into your network.",
     "x_mitre_shortname": "initial-access", "x_mitre_domains": ["enterprise-attack"],
     "external_references": [{"source_name": "mitre-attack", "external_id": "TA0001",
       "url": "https://attack.mitre.org/tactics/TA0001"}],
     "created": "2018-10-17T00:14:20.652Z", "modified": "2025-04-25T14:45:32.408Z", "x_mitre_version": "1.0"},
    {"type": "attack-pattern", "id": "attack-pattern--bf", "name": "@BRUTE@",
     "description": "Adversaries may use brute force techniques to gain access to accounts.",
     "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "credential-access"}],
     "x_mitre_is_subtechnique": false, "x_mitre_platforms": ["Windows", "Linux"],
     "x_mitre_domains": ["enterprise-attack"], "x_mitre_version": "2.6",
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1110",
       "url": "https://attack.mitre.org/techniques/T1110"},
       {"source_name": "capec", "external_id": "CAPEC-49"}],
     "created": "2017-05-31T21:31:22.767Z", "modified": "2025-10-24T17:48:19.059Z"},
    {"type": "attack-pattern", "id": "attack-pattern--pg", "name": "Password Guessing",
     "description": "Adversaries may guess passwords.",
     "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "credential-access"}],
     "x_mitre_is_subtechnique": true, "x_mitre_platforms": ["Linux"],
     "x_mitre_domains": ["enterprise-attack"], "x_mitre_version": "1.5",
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1110.001",
       "url": "https://attack.mitre.org/techniques/T1110/001"}],
     "created": "2020-02-11T18:38:22.617Z", "modified": "2025-10-24T17:48:19.059Z"},
    {"type": "attack-pattern", "id": "attack-pattern--va", "name": "Valid Accounts",
     "description": "Adversaries may obtain and abuse credentials of existing accounts.",
     "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "initial-access"}],
     "x_mitre_domains": ["enterprise-attack"], "x_mitre_version": "2.7",
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1078",
       "url": "https://attack.mitre.org/techniques/T1078"}],
     "created": "2017-05-31T21:31:00.645Z", "modified": "2025-10-24T17:48:19.059Z"},
    {"type": "attack-pattern", "id": "attack-pattern--old", "name": "Old Brute Force", "revoked": true,
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1000",
       "url": "https://attack.mitre.org/techniques/T1000"}],
     "created": "2017-05-31T21:31:00.645Z", "modified": "2019-01-01T00:00:00.000Z"},
    {"type": "attack-pattern", "id": "attack-pattern--dep", "name": "Retired Technique",
     "x_mitre_deprecated": true,
     "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "initial-access"}],
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1999",
       "url": "https://attack.mitre.org/techniques/T1999"}],
     "created": "2017-05-31T21:31:00.645Z", "modified": "2022-01-01T00:00:00.000Z"},
    {"type": "intrusion-set", "id": "intrusion-set--g1", "name": "Example Panda",
     "aliases": ["Example Panda", "Testers"], "description": "A group for tests.",
     "x_mitre_domains": ["enterprise-attack"], "x_mitre_version": "1.2",
     "external_references": [{"source_name": "mitre-attack", "external_id": "G0001",
       "url": "https://attack.mitre.org/groups/G0001"}],
     "created": "2017-05-31T21:31:00.645Z", "modified": "2024-01-01T00:00:00.000Z"},
    {"type": "malware", "id": "malware--s1", "name": "ExampleRAT", "x_mitre_aliases": ["ExampleRAT"],
     "x_mitre_platforms": ["Windows"],
     "external_references": [{"source_name": "mitre-attack", "external_id": "S0001",
       "url": "https://attack.mitre.org/software/S0001"}],
     "created": "2017-05-31T21:31:00.645Z", "modified": "2024-01-01T00:00:00.000Z"},
    {"type": "tool", "id": "tool--s2", "name": "ExampleTool",
     "external_references": [{"source_name": "mitre-attack", "external_id": "S0002",
       "url": "https://attack.mitre.org/software/S0002"}],
     "created": "2017-05-31T21:31:00.645Z", "modified": "2024-01-01T00:00:00.000Z"},
    {"type": "campaign", "id": "campaign--c1", "name": "Operation Example",
     "external_references": [{"source_name": "mitre-attack", "external_id": "C0001",
       "url": "https://attack.mitre.org/campaigns/C0001"}],
     "created": "2023-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z"},
    {"type": "course-of-action", "id": "course-of-action--m1", "name": "Multi-factor Authentication",
     "external_references": [{"source_name": "mitre-attack", "external_id": "M1032",
       "url": "https://attack.mitre.org/mitigations/M1032"}],
     "created": "2019-06-10T20:53:36.319Z", "modified": "2024-01-01T00:00:00.000Z"},
    {"type": "course-of-action", "id": "course-of-action--old", "name": "Brute Force Mitigation",
     "x_mitre_deprecated": true,
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1110",
       "url": "https://attack.mitre.org/mitigations/T1110"}],
     "created": "2018-10-17T00:14:20.652Z", "modified": "2019-07-24T19:35:33.631Z"},
    {"type": "relationship", "id": "relationship--1", "relationship_type": "subtechnique-of",
     "source_ref": "attack-pattern--pg", "target_ref": "attack-pattern--bf"},
    {"type": "relationship", "id": "relationship--2", "relationship_type": "uses",
     "source_ref": "intrusion-set--g1", "target_ref": "attack-pattern--bf"},
    {"type": "relationship", "id": "relationship--3", "relationship_type": "uses",
     "source_ref": "intrusion-set--g1", "target_ref": "malware--s1"},
    {"type": "relationship", "id": "relationship--4", "relationship_type": "uses",
     "source_ref": "malware--s1", "target_ref": "attack-pattern--pg"},
    {"type": "relationship", "id": "relationship--5", "relationship_type": "mitigates",
     "source_ref": "course-of-action--m1", "target_ref": "attack-pattern--bf"},
    {"type": "relationship", "id": "relationship--6", "relationship_type": "revoked-by",
     "source_ref": "attack-pattern--old", "target_ref": "attack-pattern--bf"},
    {"type": "relationship", "id": "relationship--7", "relationship_type": "attributed-to",
     "source_ref": "campaign--c1", "target_ref": "intrusion-set--g1"},
    {"type": "relationship", "id": "relationship--8", "relationship_type": "uses", "revoked": true,
     "source_ref": "tool--s2", "target_ref": "attack-pattern--va"}
  ]
})json";
  const std::string marker = "@BRUTE@";
  text.replace(text.find(marker), marker.size(), brute_force_name);
  return text;
}

}  // namespace yagura::hub::testing
