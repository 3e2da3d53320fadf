#include "intel/path_forms.hpp"

#include <array>

namespace yagura::intel {
namespace {

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (Lower(text[i]) != prefix[i]) return false;
  return true;
}

struct HiveAlias {
  std::string_view long_form;  // lower-case, without the trailing backslash
  std::string_view short_form;
};

// Longer spellings first where one is a prefix of another.
constexpr std::array<HiveAlias, 12> HIVE_ALIASES = {{
    {"\\registry\\machine", "hklm"},
    {"\\registry\\user", "hku"},
    {"hkey_local_machine", "hklm"},
    {"hkey_current_user", "hkcu"},
    {"hkey_users", "hku"},
    {"hkey_classes_root", "hkcr"},
    {"hkey_current_config", "hkcc"},
    {"hklm", "hklm"},
    {"hkcu", "hkcu"},
    {"hku", "hku"},
    {"hkcr", "hkcr"},
    {"hkcc", "hkcc"},
}};

}  // namespace

void LowerAscii(std::string_view text, std::string& out) {
  out.resize(text.size());
  for (size_t i = 0; i < text.size(); ++i) out[i] = Lower(text[i]);
}

bool CanonicalRegistryKey(std::string_view text, std::string& out) {
  while (!text.empty() && (text.back() == '\\' || text.back() == ' ')) text.remove_suffix(1);
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  out.clear();
  if (text.empty()) return false;
  for (const auto& alias : HIVE_ALIASES) {
    if (!StartsWithNoCase(text, alias.long_form)) continue;
    std::string_view rest = text.substr(alias.long_form.size());
    if (!rest.empty() && rest.front() != '\\') continue;  // "hkus..." is not "hku"
    // Sysmon writes the current user's keys as HKU\<user SID>\...: that is HKCU to a feed.
    if (alias.short_form == "hku" && StartsWithNoCase(rest, "\\s-1-5-21-")) {
      size_t end = rest.find('\\', 1);
      std::string_view sid = rest.substr(1, end == std::string_view::npos ? rest.size() : end - 1);
      if (!(sid.size() > 8 && StartsWithNoCase(sid.substr(sid.size() - 8), "_classes"))) {
        out.append("hkcu");
        rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
        size_t start = out.size();
        out.append(rest);
        for (size_t i = start; i < out.size(); ++i) out[i] = Lower(out[i]);
        return true;
      }
    }
    out.append(alias.short_form);
    size_t start = out.size();
    out.append(rest);
    for (size_t i = start; i < out.size(); ++i) out[i] = Lower(out[i]);
    return true;
  }
  LowerAscii(text, out);
  return true;
}

bool CanonicalFileName(std::string_view text, std::string& out) {
  size_t slash = text.find_last_of("\\/");
  if (slash != std::string_view::npos) text.remove_prefix(slash + 1);
  while (!text.empty() && (text.back() == '"' || text.back() == ' ')) text.remove_suffix(1);
  while (!text.empty() && (text.front() == '"' || text.front() == ' ')) text.remove_prefix(1);
  if (text.empty()) {
    out.clear();
    return false;
  }
  LowerAscii(text, out);
  return true;
}

}  // namespace yagura::intel
