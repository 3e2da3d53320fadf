// The rule loader: files -> YAML documents -> detection rules, filters and correlations.
//
// Files are read whole and hashed; each file is cut into YAML documents at `---` / `...` lines
// (document markers cannot occur inside a YAML scalar, so this is exact) and every document is
// parsed on its own, so a syntax error costs only that document and line numbers stay those of
// the file. Documents are classified (correlation, detection rule, filter) and compiled; any
// failure becomes a RuleFailure with file, line and reason. Filters are folded into their rules
// and correlation references are resolved once every file has been read.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sigma/rule_set.hpp"

namespace yagura::sigma {

// One YAML document of a file: its text (the marker line blanked) and the 0-based file line its
// text starts on.
struct DocumentText {
  std::string text;
  int first_line = 0;
};

// Cuts a file into documents (empty ones included; callers skip those that parse to null).
[[nodiscard]] std::vector<DocumentText> SplitDocuments(std::string_view bytes);

// The rule files under `paths` (files as given; directories walked recursively for *.yml and
// *.yaml, hidden entries skipped, sorted). Paths that cannot be read become failures.
[[nodiscard]] std::vector<std::string> CollectRuleFiles(const std::vector<std::string>& paths,
                                                        std::vector<RuleFailure>& failures);

// Loads rules from YAML text held in memory, as if read from a file called `name` (tests,
// rules received over the API).
[[nodiscard]] RuleSet LoadRuleText(std::string_view text, event::FieldCatalog& catalog,
                                   const LoadOptions& options = {},
                                   const std::string& name = "<text>");

// The work of RuleSet::Load.
[[nodiscard]] RuleSet LoadRules(const std::vector<std::string>& paths, event::FieldCatalog& catalog,
                                const LoadOptions& options);

}  // namespace yagura::sigma
