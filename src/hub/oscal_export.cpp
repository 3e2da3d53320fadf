// OSCAL assessment results and POA&M of an audit (see oscal_export.hpp for the mapping).
#include "hub/oscal_export.hpp"

#include <fmt/format.h>

#include <map>

#include "core/stable_id.hpp"
#include "core/time.hpp"

namespace yagura::hub {
namespace {

// Props OSCAL does not define carry this namespace.
constexpr std::string_view NS = "urn:yagura:audit";

JsonValue Prop(std::string_view name, std::string_view value, bool own = true) {
  JsonValue prop = JsonValue::MakeObject();
  prop.Set("name", name);
  if (own) prop.Set("ns", NS);
  prop.Set("value", value);
  return prop;
}

JsonValue Uuid(std::string_view kind, std::string_view id, std::string_view part = {}) {
  return JsonValue(StableId({"oscal", kind, id, part}));
}

std::string_view MethodName(std::string_view method) {
  if (method == "examine") return "EXAMINE";
  if (method == "interview") return "INTERVIEW";
  return "TEST";
}

// A finding's risk, as far as its recommendations have gone.
std::string_view RiskStatus(const AuditRecord& record, const AuditFinding& finding) {
  size_t total = 0, verified = 0, accepted = 0, moving = 0;
  for (const auto& recommendation : record.results.recommendations) {
    if (recommendation.finding_id != finding.id) continue;
    ++total;
    if (recommendation.status == "verified") ++verified;
    if (recommendation.status == "risk_accepted") ++accepted;
    if (recommendation.status == "in_progress" || recommendation.status == "implemented") ++moving;
  }
  if (total > 0 && verified == total) return "closed";
  if (total > 0 && verified + accepted == total) return "deviation-approved";
  if (moving > 0 || verified > 0) return "remediating";
  return "open";
}

JsonValue Metadata(const AuditRecord& record, std::string_view what) {
  const Audit& audit = record.audit;
  JsonValue metadata = JsonValue::MakeObject();
  metadata.Set("title", fmt::format("{} {}: {}", audit.reference, audit.title, what));
  metadata.Set("last-modified", FormatTimestampMs(audit.updated_at));
  metadata.Set("version", std::to_string(audit.version));
  metadata.Set("oscal-version", OSCAL_VERSION);
  JsonValue props = JsonValue::MakeArray();
  // The marking travels with the document (TLP 2.0 labels as the header of what they mark).
  props.Push(Prop("marking", TlpLabel(audit.tlp), false));
  props.Push(Prop("audit-reference", audit.reference));
  props.Push(Prop("audit-status", ToString(audit.status)));
  metadata.Set("props", std::move(props));
  JsonValue roles = JsonValue::MakeArray();
  JsonValue assessor = JsonValue::MakeObject();
  assessor.Set("id", "assessor");
  assessor.Set("title", "Assessor");
  roles.Push(std::move(assessor));
  JsonValue assessed = JsonValue::MakeObject();
  assessed.Set("id", "assessed-organization");
  assessed.Set("title", "Audited organisation");
  roles.Push(std::move(assessed));
  metadata.Set("roles", std::move(roles));
  JsonValue parties = JsonValue::MakeArray();
  JsonValue org = JsonValue::MakeObject();
  org.Set("uuid", Uuid("organization", audit.auditee_org_id));
  org.Set("type", "organization");
  org.Set("name", audit.auditee_name);
  parties.Push(std::move(org));
  JsonValue assessor_uuids = JsonValue::MakeArray();
  for (const auto& member : audit.members) {
    JsonValue person = JsonValue::MakeObject();
    person.Set("uuid", Uuid("person", member.user_id));
    person.Set("type", "person");
    person.Set("name", member.display_name.empty() ? member.username : member.display_name);
    assessor_uuids.Push(Uuid("person", member.user_id));
    parties.Push(std::move(person));
  }
  for (const auto& former : record.former_members) {
    JsonValue person = JsonValue::MakeObject();
    person.Set("uuid", Uuid("person", former.user_id));
    person.Set("type", "person");
    person.Set("name", former.display_name.empty() ? former.username : former.display_name);
    parties.Push(std::move(person));
  }
  metadata.Set("parties", std::move(parties));
  JsonValue responsible = JsonValue::MakeArray();
  JsonValue auditee = JsonValue::MakeObject();
  auditee.Set("role-id", "assessed-organization");
  JsonValue auditee_uuids = JsonValue::MakeArray();
  auditee_uuids.Push(Uuid("organization", audit.auditee_org_id));
  auditee.Set("party-uuids", std::move(auditee_uuids));
  responsible.Push(std::move(auditee));
  if (!assessor_uuids.as_array().empty()) {
    JsonValue team = JsonValue::MakeObject();
    team.Set("role-id", "assessor");
    team.Set("party-uuids", std::move(assessor_uuids));
    responsible.Push(std::move(team));
  }
  metadata.Set("responsible-parties", std::move(responsible));
  return metadata;
}

JsonValue Risk(const AuditRecord& record, const AuditFinding& finding) {
  JsonValue risk = JsonValue::MakeObject();
  risk.Set("uuid", finding.id);
  risk.Set("title", fmt::format("{}: {}", finding.reference, finding.title));
  risk.Set("description", finding.description.empty() ? finding.title : finding.description);
  risk.Set("statement", fmt::format("Control {} is not satisfied.", finding.control_id));
  JsonValue props = JsonValue::MakeArray();
  props.Push(Prop("finding-reference", finding.reference));
  props.Push(Prop("control-id", finding.control_id));
  risk.Set("props", std::move(props));
  risk.Set("status", RiskStatus(record, finding));
  JsonValue facet = JsonValue::MakeObject();
  facet.Set("name", "risk");
  facet.Set("system", NS);
  facet.Set("value", finding.risk);
  JsonValue facets = JsonValue::MakeArray();
  facets.Push(std::move(facet));
  JsonValue characterization = JsonValue::MakeObject();
  JsonValue origin = JsonValue::MakeObject();
  JsonValue actor = JsonValue::MakeObject();
  actor.Set("type", "party");
  actor.Set("actor-uuid", Uuid("person", finding.created_by));
  JsonValue actors = JsonValue::MakeArray();
  actors.Push(std::move(actor));
  origin.Set("actors", std::move(actors));
  characterization.Set("origin", std::move(origin));
  characterization.Set("facets", std::move(facets));
  JsonValue characterizations = JsonValue::MakeArray();
  characterizations.Push(std::move(characterization));
  risk.Set("characterizations", std::move(characterizations));
  JsonValue remediations = JsonValue::MakeArray();
  std::optional<int64_t> deadline;
  for (const auto& recommendation : record.results.recommendations) {
    if (recommendation.finding_id != finding.id) continue;
    if (!deadline || recommendation.due_at > *deadline) deadline = recommendation.due_at;
    JsonValue remediation = JsonValue::MakeObject();
    remediation.Set("uuid", recommendation.id);
    remediation.Set("lifecycle", "recommendation");
    remediation.Set("title", recommendation.reference);
    remediation.Set("description", recommendation.text);
    JsonValue remediation_props = JsonValue::MakeArray();
    remediation_props.Push(Prop("recommendation-status", recommendation.status));
    remediation.Set("props", std::move(remediation_props));
    JsonValue task = JsonValue::MakeObject();
    task.Set("uuid", Uuid("due", recommendation.id));
    task.Set("type", "milestone");
    task.Set("title", fmt::format("{} due", recommendation.reference));
    JsonValue on_date = JsonValue::MakeObject();
    on_date.Set("date", FormatTimestampMs(recommendation.due_at));
    JsonValue timing = JsonValue::MakeObject();
    timing.Set("on-date", std::move(on_date));
    task.Set("timing", std::move(timing));
    JsonValue tasks = JsonValue::MakeArray();
    tasks.Push(std::move(task));
    remediation.Set("tasks", std::move(tasks));
    remediations.Push(std::move(remediation));
  }
  if (deadline) risk.Set("deadline", FormatTimestampMs(*deadline));
  if (!remediations.as_array().empty()) risk.Set("remediations", std::move(remediations));
  return risk;
}

JsonValue Risks(const AuditRecord& record) {
  JsonValue risks = JsonValue::MakeArray();
  for (const auto& finding : record.results.findings) risks.Push(Risk(record, finding));
  return risks;
}

}  // namespace

CaseResult<AuditRecord> ReadAuditRecord(store::Connection& connection, const Principal& principal,
                                        std::string_view id) {
  auto audit = GetAudit(connection, principal, id);
  if (!audit) return tl::unexpected(audit.error());
  auto controls = AuditControls(connection, principal, id);
  if (!controls) return tl::unexpected(controls.error());
  auto results = AuditFindings(connection, principal, id);
  if (!results) return tl::unexpected(results.error());
  AuditRecord record{std::move(*audit), std::move(*controls), std::move(*results), {}};
  for (const auto& finding : record.results.findings) {
    const std::string& author = finding.created_by;
    if (record.audit.RoleOf(author)) continue;
    bool known = false;
    for (const auto& former : record.former_members) known = known || former.user_id == author;
    if (known) continue;
    store::Rows rows = connection.Query("SELECT username, display_name FROM users WHERE id = $1",
                                        {store::Param{author}});
    AuditMember former;
    former.user_id = author;
    if (!rows.empty()) {
      former.username = rows.rows[0][0].text();
      former.display_name = rows.rows[0][1].text();
    }
    record.former_members.push_back(std::move(former));
  }
  return record;
}

JsonValue AssessmentResultsJson(const AuditRecord& record) {
  const Audit& audit = record.audit;
  JsonValue document = JsonValue::MakeObject();
  document.Set("uuid", Uuid("assessment-results", audit.id, std::to_string(audit.version)));
  document.Set("metadata", Metadata(record, "assessment results"));
  JsonValue import_ap = JsonValue::MakeObject();
  // The plan is the audit itself as the service holds it.
  import_ap.Set("href", fmt::format("/api/v1/audits/{}", audit.id));
  document.Set("import-ap", std::move(import_ap));

  JsonValue result = JsonValue::MakeObject();
  result.Set("uuid", Uuid("result", audit.id));
  result.Set("title", audit.title);
  result.Set("description", audit.objectives.empty() ? audit.title : audit.objectives);
  result.Set("start", FormatTimestampMs(audit.planned_start.value_or(audit.created_at)));
  if (audit.issued_at) result.Set("end", FormatTimestampMs(*audit.issued_at));
  JsonValue result_props = JsonValue::MakeArray();
  result_props.Push(Prop("standard", audit.standard_title));
  result.Set("props", std::move(result_props));
  JsonValue include = JsonValue::MakeArray();
  for (const auto& scoped : record.controls) {
    JsonValue control = JsonValue::MakeObject();
    control.Set("control-id", scoped.control.control_id);
    include.Push(std::move(control));
  }
  JsonValue selection = JsonValue::MakeObject();
  selection.Set("include-controls", std::move(include));
  JsonValue selections = JsonValue::MakeArray();
  selections.Push(std::move(selection));
  JsonValue reviewed = JsonValue::MakeObject();
  reviewed.Set("control-selections", std::move(selections));
  result.Set("reviewed-controls", std::move(reviewed));

  std::map<std::string, std::vector<std::string>> risks_of_control;
  for (const auto& finding : record.results.findings) {
    risks_of_control[finding.control_id].push_back(finding.id);
  }
  JsonValue observations = JsonValue::MakeArray();
  JsonValue findings = JsonValue::MakeArray();
  for (const auto& scoped : record.controls) {
    if (scoped.result == "not_assessed") continue;
    const std::string& control_id = scoped.control.control_id;
    std::string name = scoped.control.label.empty() ? control_id : scoped.control.label;
    JsonValue observation = JsonValue::MakeObject();
    observation.Set("uuid", Uuid("observation", audit.id, control_id));
    observation.Set("title", fmt::format("{} {}", name, scoped.control.title));
    observation.Set("description", scoped.note.empty()
                                       ? fmt::format("Assessed as {}.", scoped.result)
                                       : scoped.note);
    JsonValue methods = JsonValue::MakeArray();
    for (const auto& method : scoped.methods) methods.Push(MethodName(method));
    // OSCAL requires a method; one the team did not record is UNKNOWN, as OSCAL spells it.
    if (methods.as_array().empty()) methods.Push("UNKNOWN");
    observation.Set("methods", std::move(methods));
    observation.Set("collected", FormatTimestampMs(scoped.assessed_at.value_or(audit.updated_at)));
    observations.Push(std::move(observation));

    JsonValue finding = JsonValue::MakeObject();
    finding.Set("uuid", Uuid("finding", audit.id, control_id));
    finding.Set("title", fmt::format("{} {}", name, scoped.control.title));
    finding.Set("description", scoped.note.empty() ? fmt::format("Control {} was assessed as {}.",
                                                                 control_id, scoped.result)
                                                   : scoped.note);
    JsonValue target = JsonValue::MakeObject();
    target.Set("type", "objective-id");
    target.Set("target-id", control_id);
    JsonValue status = JsonValue::MakeObject();
    const bool satisfied = scoped.result == "satisfied" || scoped.result == "not_applicable";
    status.Set("state", satisfied ? "satisfied" : "not-satisfied");
    status.Set("reason", scoped.result == "satisfied"        ? "pass"
                         : scoped.result == "not_applicable" ? "other"
                                                             : "fail");
    target.Set("status", std::move(status));
    JsonValue target_props = JsonValue::MakeArray();
    target_props.Push(Prop("result", scoped.result));
    target.Set("props", std::move(target_props));
    finding.Set("target", std::move(target));
    JsonValue related = JsonValue::MakeArray();
    JsonValue link = JsonValue::MakeObject();
    link.Set("observation-uuid", Uuid("observation", audit.id, control_id));
    related.Push(std::move(link));
    finding.Set("related-observations", std::move(related));
    if (auto risks = risks_of_control.find(control_id); risks != risks_of_control.end()) {
      JsonValue related_risks = JsonValue::MakeArray();
      for (const auto& risk_id : risks->second) {
        JsonValue risk = JsonValue::MakeObject();
        risk.Set("risk-uuid", risk_id);
        related_risks.Push(std::move(risk));
      }
      finding.Set("related-risks", std::move(related_risks));
    }
    findings.Push(std::move(finding));
  }
  if (!observations.as_array().empty()) result.Set("observations", std::move(observations));
  JsonValue risks = Risks(record);
  if (!risks.as_array().empty()) result.Set("risks", std::move(risks));
  if (!findings.as_array().empty()) result.Set("findings", std::move(findings));
  JsonValue results = JsonValue::MakeArray();
  results.Push(std::move(result));
  document.Set("results", std::move(results));
  JsonValue root = JsonValue::MakeObject();
  root.Set("assessment-results", std::move(document));
  return root;
}

JsonValue PoamJson(const AuditRecord& record) {
  const Audit& audit = record.audit;
  JsonValue document = JsonValue::MakeObject();
  document.Set("uuid", Uuid("poam", audit.id, std::to_string(audit.version)));
  document.Set("metadata", Metadata(record, "plan of action and milestones"));
  JsonValue system = JsonValue::MakeObject();
  // The audited organisation stands for the system: the centre audits organisations.
  system.Set("identifier-type", "http://ietf.org/rfc/rfc4122");
  system.Set("id", Uuid("organization", audit.auditee_org_id));
  document.Set("system-id", std::move(system));
  JsonValue risks = Risks(record);
  if (!risks.as_array().empty()) document.Set("risks", std::move(risks));
  std::map<std::string, const AuditFinding*> findings;
  for (const auto& finding : record.results.findings) findings[finding.id] = &finding;
  JsonValue items = JsonValue::MakeArray();
  for (const auto& recommendation : record.results.recommendations) {
    JsonValue item = JsonValue::MakeObject();
    item.Set("uuid", Uuid("poam-item", recommendation.id));
    const AuditFinding* finding = findings[recommendation.finding_id];
    item.Set("title", finding != nullptr ? fmt::format("{} ({}): {}", recommendation.reference,
                                                       finding->control_id, finding->title)
                                         : recommendation.reference);
    item.Set("description", recommendation.text);
    JsonValue props = JsonValue::MakeArray();
    props.Push(Prop("recommendation-status", recommendation.status));
    props.Push(Prop("due", FormatTimestampMs(recommendation.due_at)));
    item.Set("props", std::move(props));
    JsonValue related = JsonValue::MakeArray();
    JsonValue risk = JsonValue::MakeObject();
    risk.Set("risk-uuid", recommendation.finding_id);
    related.Push(std::move(risk));
    item.Set("related-risks", std::move(related));
    if (!recommendation.follow_ups.empty()) {
      std::string remarks;
      for (const auto& step : recommendation.follow_ups) {
        remarks += fmt::format("{}{} {} -> {}{}{}", remarks.empty() ? "" : "\n",
                               FormatTimestampMs(step.at), step.status_from, step.status_to,
                               step.note.empty() ? "" : ": ", step.note);
      }
      item.Set("remarks", remarks);
    }
    items.Push(std::move(item));
  }
  document.Set("poam-items", std::move(items));
  JsonValue root = JsonValue::MakeObject();
  root.Set("plan-of-action-and-milestones", std::move(document));
  return root;
}

}  // namespace yagura::hub
