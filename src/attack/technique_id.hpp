// ATT&CK technique ids as rules and reports write them: "T1110" and "T1110.001", from a tag
// such as Sigma's "attack.t1110.001" or from text an analyst typed. One spelling for every
// subsystem that counts techniques (scan's layers, the centre's heatmap, live alerts), so that a
// technique tagged "attack.T1110" by one rule and "attack.t1110" by another is one technique.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace yagura::attack {

// "t1110.001" -> "T1110.001"; nullopt unless it reads T + 4 digits [+ "." + 3 digits].
[[nodiscard]] std::optional<std::string> NormalizeTechniqueId(std::string_view text);

// "attack.t1110.001" (a Sigma tag, any case) -> "T1110.001"; nullopt for other tags (tactics
// such as "attack.credential-access", groups "attack.g0016", software "attack.s0002").
[[nodiscard]] std::optional<std::string> TechniqueOfTag(std::string_view tag);

// The techniques a rule's tags name, each once, in the order of the tags ("attack.t1059" and
// "attack.T1059" are one).
[[nodiscard]] std::vector<std::string> TechniquesOfTags(const std::vector<std::string>& tags);

// "T1110.001" -> "T1110"; a technique is its own parent.
[[nodiscard]] std::string_view ParentTechnique(std::string_view id);

// The ATT&CK domain whose matrix holds a normalised id: ICS techniques are numbered T0800 to
// T0899 (T0xxx), Enterprise's from T1000. Mobile's ids share Enterprise's range and cannot be
// told apart by number; no detection rule set tags them.
[[nodiscard]] std::string_view DomainOfTechnique(std::string_view id);

}  // namespace yagura::attack
