// Hub errors as API errors: the mapping every resource built on hub::IncidentError (incidents,
// alerts) or hub::CaseError (investigations, whose kinds are the same four) shares — invalid 400,
// forbidden 403, not found 404, conflict 409.
#pragma once

#include <type_traits>
#include <utility>

#include "http/api.hpp"
#include "hub/cases.hpp"
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

[[noreturn]] inline void Throw(const hub::CaseError& error) {
  hub::IncidentErrorKind kind = hub::IncidentErrorKind::kInvalid;
  switch (error.kind) {
    case hub::CaseErrorKind::kInvalid:
      kind = hub::IncidentErrorKind::kInvalid;
      break;
    case hub::CaseErrorKind::kForbidden:
      kind = hub::IncidentErrorKind::kForbidden;
      break;
    case hub::CaseErrorKind::kNotFound:
      kind = hub::IncidentErrorKind::kNotFound;
      break;
    case hub::CaseErrorKind::kConflict:
      kind = hub::IncidentErrorKind::kConflict;
      break;
  }
  Throw(hub::IncidentError{kind, error.message, error.field});
}

// The value of a hub result, or the matching ApiError.
template <typename T>
T Unwrap(hub::IncidentResult<T> result) {
  if (!result) Throw(result.error());
  if constexpr (!std::is_void_v<T>) return std::move(*result);
}
template <typename T>
T Unwrap(hub::CaseResult<T> result) {
  if (!result) Throw(result.error());
  if constexpr (!std::is_void_v<T>) return std::move(*result);
}

}  // namespace yagura::http
