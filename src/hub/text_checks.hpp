// Checks of the text people send the centre, shared by every kind of object the hub stores.
//
// The API's JSON layer already refuses what is not JSON; these checks are the domain's own,
// repeated here because the hub functions are also called by the CLI and the tests, and a
// stored title with a NUL or a lone surrogate would break every export that reads it later.
#pragma once

#include <cstddef>
#include <string_view>

#include "core/utf8.hpp"  // CodePoints, ValidUtf8

namespace yagura::hub {

// UTF-8 without NUL, at most `max_code_points` code points.
bool ValidText(std::string_view text, size_t max_code_points);
// A file name to store and offer for download: 1 to 255 characters, no path separators,
// quotes or control characters, not "." or "..".
bool ValidFilename(std::string_view name);
// type "/" subtype with RFC 7230 token characters, and optional parameters that are not
// interpreted (kept only so "text/plain; charset=utf-8" round-trips).
bool ValidContentType(std::string_view type);

}  // namespace yagura::hub
