// The OpenAPI 3.1 document of the JSON API, generated from the router's routes.
#pragma once

#include <string_view>

#include "core/json_value.hpp"
#include "http/router.hpp"

#ifndef YAGURA_API_VERSION
#define YAGURA_API_VERSION "1.0.0"
#endif

namespace yagura::http {

// Every route becomes an operation (path parameters, documented query parameters, request and
// response schemas by reference, security); `schemas` become components/schemas.
JsonValue BuildOpenApi(const Router& router, const JsonValue& schemas, std::string_view version);

}  // namespace yagura::http
