// Identifiers, secrets and digests the service hands out and checks.
#pragma once

#include <string>
#include <string_view>

namespace yagura::hub {

// A UUIDv7 (RFC 9562) in its canonical text form: time-ordered, so rows created later sort
// later in primary-key indexes, and 74 random bits so ids cannot be guessed.
std::string NewId();

// Whether `id` could name a row: ids are UUIDs, so anything else (control characters, bytes
// that are not UTF-8, which PostgreSQL would refuse as text) is answered without a query.
bool PlausibleId(std::string_view id);

// `bytes` random bytes from the kernel's CSPRNG, as unpadded base64url text (session ids, API
// tokens, CSRF tokens, generated passwords).
std::string RandomToken(size_t bytes = 32);

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// Comparison whose time does not depend on where the strings differ.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace yagura::hub
