// OSCAL catalogs as the centre's standards (rules in standards.hpp).
#include "hub/standards.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "core/json_value.hpp"
#include "hub/audit_log.hpp"
#include "hub/crypto.hpp"
#include "hub/policy.hpp"
#include "hub/text_checks.hpp"

namespace yagura::hub {
namespace {

constexpr size_t ID_MAX = 200;
constexpr size_t TITLE_MAX = 1000;
constexpr size_t STATEMENT_MAX = 100000;

const std::string& Text(const JsonValue* value) {
  static const std::string empty;
  return value != nullptr && value->is_string() ? value->as_string() : empty;
}

std::string PropValue(const JsonValue& node, std::string_view name) {
  const JsonValue* props = node.Find("props");
  if (props == nullptr || !props->is_array()) return {};
  for (const auto& prop : props->as_array()) {
    if (prop.is_object() && Text(prop.Find("name")) == name) return Text(prop.Find("value"));
  }
  return {};
}

// A node's label. SP 800-53 gives several ("AC-02" zero-padded, "AC-02" for SP 800-53A, and
// the plain "AC-2"); the one without a class is how the standard itself prints it.
std::string LabelOf(const JsonValue& node) {
  const JsonValue* props = node.Find("props");
  if (props == nullptr || !props->is_array()) return {};
  std::string first;
  for (const auto& prop : props->as_array()) {
    if (!prop.is_object() || Text(prop.Find("name")) != "label") continue;
    if (prop.Find("class") == nullptr) return Text(prop.Find("value"));
    if (first.empty()) first = Text(prop.Find("value"));
  }
  return first;
}

// How a parameter reads inside a statement, as the published catalogs print it.
std::string ParamText(const JsonValue& param) {
  if (const JsonValue* select = param.Find("select"); select != nullptr && select->is_object()) {
    std::string choices;
    if (const JsonValue* list = select->Find("choice"); list != nullptr && list->is_array()) {
      for (const auto& choice : list->as_array()) {
        if (!choice.is_string()) continue;
        if (!choices.empty()) choices += "; ";
        choices += choice.as_string();
      }
    }
    std::string how = Text(select->Find("how-many"));
    return how.empty() ? fmt::format("[Selection: {}]", choices)
                       : fmt::format("[Selection ({}): {}]", how, choices);
  }
  std::string label = Text(param.Find("label"));
  return fmt::format("[Assignment: {}]", label.empty() ? Text(param.Find("id")) : label);
}

// Replaces "{{ insert: param, ID }}" by the parameter's text; unknown ids stay as written.
std::string InsertParams(std::string_view prose,
                         const std::unordered_map<std::string, std::string>& params) {
  std::string out;
  size_t at = 0;
  while (true) {
    size_t open = prose.find("{{", at);
    if (open == std::string_view::npos) break;
    size_t close = prose.find("}}", open);
    if (close == std::string_view::npos) break;
    std::string_view inner = prose.substr(open + 2, close - open - 2);
    std::string replacement;
    size_t colon = inner.find(':');
    size_t comma = inner.find(',');
    if (colon != std::string_view::npos && comma != std::string_view::npos && comma > colon) {
      auto trim = [](std::string_view s) {
        while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
        while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
        return s;
      };
      std::string_view kind = trim(inner.substr(colon + 1, comma - colon - 1));
      std::string id(trim(inner.substr(comma + 1)));
      if (trim(inner.substr(0, colon)) == "insert" && kind == "param") {
        auto found = params.find(id);
        if (found != params.end()) replacement = found->second;
      }
    }
    out.append(prose.substr(at, open - at));
    if (replacement.empty()) {
      out.append(prose.substr(open, close + 2 - open));
    } else {
      out += replacement;
    }
    at = close + 2;
  }
  out.append(prose.substr(at));
  return out;
}

void RenderPart(const JsonValue& part, int indent,
                const std::unordered_map<std::string, std::string>& params, std::string& out) {
  std::string label = LabelOf(part);
  std::string prose = InsertParams(Text(part.Find("prose")), params);
  if (!label.empty() || !prose.empty()) {
    if (!out.empty()) out += '\n';
    out.append(static_cast<size_t>(indent) * 2, ' ');
    if (!label.empty()) out += label + (prose.empty() ? "" : " ");
    out += prose;
  }
  if (const JsonValue* parts = part.Find("parts"); parts != nullptr && parts->is_array()) {
    for (const auto& child : parts->as_array()) {
      if (child.is_object())
        RenderPart(child, indent + (label.empty() && prose.empty() ? 0 : 1), params, out);
    }
  }
}

class CatalogReader {
 public:
  tl::expected<ParsedCatalog, std::string> Read(const JsonValue& document) {
    const JsonValue* catalog = document.is_object() ? document.Find("catalog") : nullptr;
    if (catalog == nullptr || !catalog->is_object()) {
      return tl::unexpected(std::string(
          "the document is not an OSCAL catalog: it has no \"catalog\" object (profiles, "
          "assessment plans and other models are not catalogs)"));
    }
    const JsonValue* metadata = catalog->Find("metadata");
    if (metadata == nullptr || !metadata->is_object()) {
      return tl::unexpected(std::string("catalog.metadata is missing"));
    }
    result_.oscal_uuid = Text(catalog->Find("uuid"));
    result_.title = Text(metadata->Find("title"));
    result_.version = Text(metadata->Find("version"));
    result_.oscal_version = Text(metadata->Find("oscal-version"));
    result_.published = Text(metadata->Find("published"));
    if (result_.title.empty())
      return tl::unexpected(std::string("catalog.metadata.title is missing"));
    if (!ValidText(result_.title, TITLE_MAX) || !ValidText(result_.version, ID_MAX) ||
        !ValidText(result_.oscal_uuid, ID_MAX) || !ValidText(result_.oscal_version, ID_MAX) ||
        !ValidText(result_.published, ID_MAX)) {
      return tl::unexpected(std::string(
          "catalog.metadata: title, version, published and uuid must be short UTF-8 text"));
    }
    if (!Walk(*catalog, "catalog", "", "", 0)) return tl::unexpected(error_);
    if (result_.controls.empty()) {
      return tl::unexpected(std::string("the catalog holds no controls"));
    }
    return std::move(result_);
  }

 private:
  // A group or the catalog: its controls, then its groups, in document order.
  bool Walk(const JsonValue& node, const std::string& path, const std::string& parent_id,
            const std::string& group_title, int depth) {
    if (const JsonValue* controls = node.Find("controls"); controls != nullptr) {
      if (!controls->is_array()) return Fail(path + ".controls is not an array");
      for (size_t i = 0; i < controls->as_array().size(); ++i) {
        if (!Control(controls->as_array()[i], fmt::format("{}.controls[{}]", path, i), parent_id,
                     group_title, depth)) {
          return false;
        }
      }
    }
    if (const JsonValue* groups = node.Find("groups"); groups != nullptr) {
      if (!groups->is_array()) return Fail(path + ".groups is not an array");
      for (size_t i = 0; i < groups->as_array().size(); ++i) {
        const JsonValue& group = groups->as_array()[i];
        std::string group_path = fmt::format("{}.groups[{}]", path, i);
        if (!group.is_object()) return Fail(group_path + " is not an object");
        std::string title = Text(group.Find("title"));
        if (!Walk(group, group_path, "", title.empty() ? group_title : title, depth)) return false;
      }
    }
    return true;
  }

  bool Control(const JsonValue& control, const std::string& path, const std::string& parent_id,
               const std::string& group_title, int depth) {
    if (!control.is_object()) return Fail(path + " is not an object");
    std::string id = Text(control.Find("id"));
    if (id.empty()) return Fail(path + ": a control has no id");
    if (!ValidText(id, ID_MAX)) return Fail(path + ": the control's id is not short UTF-8 text");
    // A withdrawn control is kept in the catalog for its history; nobody is audited against it.
    if (PropValue(control, "status") == "withdrawn") return true;
    if (!seen_.insert(id).second)
      return Fail(fmt::format("{}: control id {:?} appears twice", path, id));
    if (result_.controls.size() >= STANDARD_CONTROLS_MAX) {
      return Fail(fmt::format("the catalog holds more than {} controls", STANDARD_CONTROLS_MAX));
    }
    StandardControl row;
    row.control_id = id;
    row.parent_id = parent_id;
    row.group_title = group_title;
    row.label = LabelOf(control);
    row.title = Text(control.Find("title"));
    row.control_class = Text(control.Find("class"));
    row.depth = depth;
    row.position = static_cast<int64_t>(result_.controls.size());
    std::unordered_map<std::string, std::string> params;
    if (const JsonValue* list = control.Find("params"); list != nullptr && list->is_array()) {
      for (const auto& param : list->as_array()) {
        if (param.is_object()) params[Text(param.Find("id"))] = ParamText(param);
      }
    }
    if (const JsonValue* parts = control.Find("parts"); parts != nullptr && parts->is_array()) {
      for (const auto& part : parts->as_array()) {
        if (part.is_object() && Text(part.Find("name")) == "statement") {
          RenderPart(part, 0, params, row.statement);
        }
      }
    }
    if (!ValidText(row.title, TITLE_MAX) || !ValidText(row.label, ID_MAX) ||
        !ValidText(row.group_title, TITLE_MAX) || !ValidText(row.control_class, ID_MAX)) {
      return Fail(path + ": title, label and class must be UTF-8 text of reasonable length");
    }
    if (!ValidText(row.statement, STATEMENT_MAX)) {
      return Fail(path + ": the statement is longer than 100,000 characters");
    }
    result_.controls.push_back(std::move(row));
    // Enhancements follow the control they enhance.
    if (const JsonValue* children = control.Find("controls"); children != nullptr) {
      if (!children->is_array()) return Fail(path + ".controls is not an array");
      for (size_t i = 0; i < children->as_array().size(); ++i) {
        if (!Control(children->as_array()[i], fmt::format("{}.controls[{}]", path, i), id,
                     group_title, depth + 1)) {
          return false;
        }
      }
    }
    return true;
  }

  bool Fail(std::string message) {
    error_ = std::move(message);
    return false;
  }

  ParsedCatalog result_;
  std::unordered_set<std::string> seen_;
  std::string error_;
};

constexpr std::string_view STANDARD_COLUMNS =
    "id, title, version, oscal_uuid, oscal_version, published, source_name, sha256, controls, "
    "imported_by, imported_at";

Standard RowToStandard(const std::vector<store::Field>& row) {
  Standard standard;
  standard.id = row[0].text();
  standard.title = row[1].text();
  standard.version = row[2].text();
  standard.oscal_uuid = row[3].text();
  standard.oscal_version = row[4].text();
  standard.published = row[5].text();
  standard.source_name = row[6].text();
  standard.sha256 = row[7].text();
  standard.controls = row[8].as_int();
  standard.imported_by = row[9].text();
  standard.imported_at = row[10].as_int();
  return standard;
}

std::optional<Standard> LoadStandard(store::Connection& connection, std::string_view id) {
  store::Rows rows =
      connection.Query(fmt::format("SELECT {} FROM standards WHERE id = $1", STANDARD_COLUMNS),
                       {store::Param{std::string(id)}});
  if (rows.empty()) return std::nullopt;
  return RowToStandard(rows.rows[0]);
}

// The ids a profile's with-ids or matching lists name, checked against the catalog.
tl::expected<void, std::string> SelectIds(const JsonValue& selection, const std::string& path,
                                          const std::vector<StandardControl>& controls,
                                          const std::unordered_set<std::string>& known,
                                          std::set<std::string>& selected) {
  if (!selection.is_object()) return tl::unexpected(path + " is not an object");
  if (const JsonValue* ids = selection.Find("with-ids"); ids != nullptr) {
    if (!ids->is_array()) return tl::unexpected(path + ".with-ids is not an array");
    for (const auto& id : ids->as_array()) {
      if (!id.is_string()) return tl::unexpected(path + ".with-ids holds a value that is not text");
      if (!known.contains(id.as_string())) {
        return tl::unexpected(
            fmt::format("{}: control {:?} is not in the standard", path, id.as_string()));
      }
      selected.insert(id.as_string());
    }
  }
  // with-child-controls: "yes" takes the enhancements of the controls named.
  if (Text(selection.Find("with-child-controls")) == "yes") {
    for (const auto& control : controls) {
      if (!control.parent_id.empty() && selected.contains(control.parent_id)) {
        selected.insert(control.control_id);
      }
    }
  }
  return {};
}

}  // namespace

tl::expected<ParsedCatalog, std::string> ParseOscalCatalog(std::string_view document) {
  if (document.size() > STANDARD_DOCUMENT_MAX) {
    return tl::unexpected(
        fmt::format("the catalog is larger than {} MiB", STANDARD_DOCUMENT_MAX / (1024 * 1024)));
  }
  auto json = JsonValue::Parse(document, 256);
  if (!json) return tl::unexpected("the catalog is not JSON: " + json.error().ToString());
  return CatalogReader().Read(*json);
}

CaseResult<Standard> ImportStandard(store::Connection& connection, const Principal& principal,
                                    std::string_view source_name, std::string_view document,
                                    int64_t now_ms) {
  if (!can::ImportStandard(principal)) {
    return RefuseCase(CaseErrorKind::kForbidden,
                      "only the centre's duty officers and auditors import standards");
  }
  if (!ValidText(source_name, 255)) {
    return tl::unexpected(
        InvalidCaseField("source is UTF-8 text of at most 255 characters", "source"));
  }
  auto parsed = ParseOscalCatalog(document);
  if (!parsed) return tl::unexpected(InvalidCaseField(parsed.error(), "document"));
  Standard standard;
  standard.sha256 = Sha256Hex(document);
  store::Rows existing = connection.Query("SELECT id, title FROM standards WHERE sha256 = $1",
                                          {store::Param{standard.sha256}});
  if (!existing.empty()) {
    return RefuseCase(CaseErrorKind::kConflict,
                      fmt::format("this catalog is imported already, as {:?} ({})",
                                  existing.rows[0][1].text(), existing.rows[0][0].text()));
  }
  standard.id = NewId();
  standard.title = parsed->title;
  standard.version = parsed->version;
  standard.oscal_uuid = parsed->oscal_uuid;
  standard.oscal_version = parsed->oscal_version;
  standard.published = parsed->published;
  standard.source_name = std::string(source_name);
  standard.controls = static_cast<int64_t>(parsed->controls.size());
  standard.imported_by = principal.user_id;
  standard.imported_at = now_ms;
  connection.Execute(
      "INSERT INTO standards (id, title, version, oscal_uuid, oscal_version, published, "
      "source_name, sha256, controls, imported_by, imported_at) VALUES ($1, $2, $3, $4, $5, $6, "
      "$7, $8, $9, $10, $11)",
      {store::Param{standard.id}, store::Param{standard.title}, store::Param{standard.version},
       store::Param{standard.oscal_uuid}, store::Param{standard.oscal_version},
       store::Param{standard.published}, store::Param{standard.source_name},
       store::Param{standard.sha256}, store::Param{standard.controls},
       store::Param{standard.imported_by}, store::Param{now_ms}});
  for (const auto& control : parsed->controls) {
    connection.Execute(
        "INSERT INTO standard_controls (standard_id, control_id, position, parent_id, depth, "
        "group_title, label, title, class, statement) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
        "$10)",
        {store::Param{standard.id}, store::Param{control.control_id},
         store::Param{control.position}, store::Param{control.parent_id},
         store::Param{static_cast<int64_t>(control.depth)}, store::Param{control.group_title},
         store::Param{control.label}, store::Param{control.title},
         store::Param{control.control_class}, store::Param{control.statement}});
  }
  AuditEntry entry = EntryFor(principal, "standard.import", "standard", standard.id, Tlp::kClear);
  JsonValue detail = JsonValue::MakeObject();
  detail.Set("title", standard.title);
  detail.Set("version", standard.version);
  detail.Set("controls", standard.controls);
  detail.Set("sha256", standard.sha256);
  entry.detail = detail.Serialize();
  AuditLog::Append(connection, entry, now_ms);
  return standard;
}

std::vector<Standard> ListStandards(store::Connection& connection, const Principal& principal) {
  std::vector<Standard> standards;
  if (!principal.IsMember()) return standards;
  for (const auto& row :
       connection
           .Query(fmt::format("SELECT {} FROM standards ORDER BY imported_at DESC, id DESC",
                              STANDARD_COLUMNS))
           .rows) {
    standards.push_back(RowToStandard(row));
  }
  return standards;
}

CaseResult<Standard> GetStandard(store::Connection& connection, const Principal& principal,
                                 std::string_view id) {
  if (!principal.IsMember() || !PlausibleId(id)) return CaseNotFound("standard");
  auto standard = LoadStandard(connection, id);
  if (!standard) return CaseNotFound("standard");
  return std::move(*standard);
}

std::vector<StandardControl> StandardControls(store::Connection& connection,
                                              std::string_view standard_id) {
  std::vector<StandardControl> controls;
  for (const auto& row :
       connection
           .Query("SELECT control_id, parent_id, group_title, label, title, class, statement, "
                  "depth, position FROM standard_controls WHERE standard_id = $1 ORDER BY position",
                  {store::Param{std::string(standard_id)}})
           .rows) {
    StandardControl control;
    control.control_id = row[0].text();
    control.parent_id = row[1].text();
    control.group_title = row[2].text();
    control.label = row[3].text();
    control.title = row[4].text();
    control.control_class = row[5].text();
    control.statement = row[6].text();
    control.depth = static_cast<int>(row[7].as_int());
    control.position = row[8].as_int();
    controls.push_back(std::move(control));
  }
  return controls;
}

tl::expected<std::vector<std::string>, std::string> ProfileControlIds(
    const std::vector<StandardControl>& controls, std::string_view profile_document) {
  if (profile_document.size() > STANDARD_DOCUMENT_MAX) {
    return tl::unexpected(std::string("the profile is too large"));
  }
  auto json = JsonValue::Parse(profile_document, 128);
  if (!json) return tl::unexpected("the profile is not JSON: " + json.error().ToString());
  const JsonValue* profile = json->is_object() ? json->Find("profile") : nullptr;
  if (profile == nullptr || !profile->is_object()) {
    return tl::unexpected(
        std::string("the document is not an OSCAL profile: it has no "
                    "\"profile\" object"));
  }
  const JsonValue* imports = profile->Find("imports");
  if (imports == nullptr || !imports->is_array() || imports->as_array().empty()) {
    return tl::unexpected(std::string("profile.imports is missing or empty"));
  }
  std::unordered_set<std::string> known;
  for (const auto& control : controls) known.insert(control.control_id);
  std::set<std::string> selected;
  for (size_t i = 0; i < imports->as_array().size(); ++i) {
    const JsonValue& import = imports->as_array()[i];
    std::string path = fmt::format("profile.imports[{}]", i);
    if (!import.is_object()) return tl::unexpected(path + " is not an object");
    std::set<std::string> included;
    if (import.Find("include-all") != nullptr) {
      for (const auto& control : controls) included.insert(control.control_id);
    }
    if (const JsonValue* list = import.Find("include-controls"); list != nullptr) {
      if (!list->is_array()) return tl::unexpected(path + ".include-controls is not an array");
      for (size_t j = 0; j < list->as_array().size(); ++j) {
        auto done = SelectIds(list->as_array()[j], fmt::format("{}.include-controls[{}]", path, j),
                              controls, known, included);
        if (!done) return tl::unexpected(done.error());
      }
    }
    if (const JsonValue* list = import.Find("exclude-controls"); list != nullptr) {
      if (!list->is_array()) return tl::unexpected(path + ".exclude-controls is not an array");
      std::set<std::string> excluded;
      for (size_t j = 0; j < list->as_array().size(); ++j) {
        auto done = SelectIds(list->as_array()[j], fmt::format("{}.exclude-controls[{}]", path, j),
                              controls, known, excluded);
        if (!done) return tl::unexpected(done.error());
      }
      for (const auto& id : excluded) included.erase(id);
    }
    selected.insert(included.begin(), included.end());
  }
  std::vector<std::string> ids;
  for (const auto& control : controls) {
    if (selected.contains(control.control_id)) ids.push_back(control.control_id);
  }
  if (ids.empty()) return tl::unexpected(std::string("the profile selects no control"));
  return ids;
}

}  // namespace yagura::hub
