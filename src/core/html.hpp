// Text written into HTML pages (the scan's report, the investigation report). Everything such a
// page shows comes from logs, rules or people, any of whom may be an attacker.
#pragma once

#include <string>
#include <string_view>

namespace yagura {

// Appends `text` with & < > " ' escaped, so it is text in element content and in quoted
// attribute values alike.
void AppendHtmlEscaped(std::string_view text, std::string& out);
[[nodiscard]] std::string HtmlEscaped(std::string_view text);

}  // namespace yagura
