// Result<T>: the return type of every operation that can fail on expected bad input.
//
// Expected failures (a malformed rule, an unreadable file) travel as values so callers must look
// at them; exceptions are reserved for aborting a whole configuration load or request.
#pragma once

#include <string>
#include <utility>

#include <tl/expected.hpp>

namespace yagura {

// What went wrong, in words a user can act on. `where` is a location such as "rules/x.yml:12"
// or "logs/a.evtx record 1023"; it may be empty when the caller adds it.
struct Error {
  std::string message;
  std::string where;

  [[nodiscard]] std::string ToString() const {
    return where.empty() ? message : where + ": " + message;
  }
};

template <typename T>
using Result = tl::expected<T, Error>;

[[nodiscard]] inline tl::unexpected<Error> Fail(std::string message, std::string where = {}) {
  return tl::unexpected<Error>(Error{std::move(message), std::move(where)});
}

}  // namespace yagura
