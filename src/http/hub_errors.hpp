// Hub errors as API errors: the mapping every resource built on hub::IncidentError (incidents,
// alerts) shares — invalid 400, forbidden 403, not found 404, conflict 409.
#pragma once

#include <type_traits>
#include <utility>

#include "http/api.hpp"
#include "hub/incidents.hpp"

namespace yagura::http {

[[noreturn]] inline void Throw(const hub::IncidentError& error) {
  switch (error.kind) {
    case hub::IncidentErrorKind::kInvalid:
      throw ApiError(400, "invalid_request", error.message, error.field);
    case hub::IncidentErrorKind::kForbidden:
      throw ApiError(403, "forbidden", error.message);
    case hub::IncidentErrorKind::kNotFound:
      throw ApiError(404, "not_found", error.message);
    case hub::IncidentErrorKind::kConflict:
      throw ApiError(409, "conflict", error.message, error.field);
  }
  throw ApiError(400, "invalid_request", error.message, error.field);
}

// The value of a hub result, or the matching ApiError.
template <typename T>
T Unwrap(hub::IncidentResult<T> result) {
  if (!result) Throw(result.error());
  if constexpr (!std::is_void_v<T>) return std::move(*result);
}

}  // namespace yagura::http
