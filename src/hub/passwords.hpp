// Password hashing: argon2id through libsodium's crypto_pwhash_str family.
//
// Stored hashes are the self-describing PHC strings libsodium writes ("$argon2id$v=19$m=...,
// t=...,p=1$salt$hash"), so the cost travels with each hash: raising the cost later needs no
// migration — PasswordNeedsRehash tells the login code to re-hash with the current cost once
// the user has proved the password.
//
// The cost is process-wide (SetPasswordCost) because every hash the service writes and every
// dummy verification it runs for unknown users must use the same one, or the time a login takes
// would reveal which accounts exist. Production keeps libsodium's INTERACTIVE limits; tests
// switch to the MIN limits so thousands of logins take seconds.
//
// Thread-safety: all functions may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace yagura::hub {

struct PasswordCost {
  uint64_t opslimit = 0;
  size_t memlimit = 0;

  // crypto_pwhash_OPSLIMIT_INTERACTIVE / MEMLIMIT_INTERACTIVE (2 passes, 64 MiB).
  static PasswordCost Interactive();
  // crypto_pwhash_OPSLIMIT_MIN / MEMLIMIT_MIN: for tests only.
  static PasswordCost Minimal();
  friend bool operator==(const PasswordCost&, const PasswordCost&) = default;
};

// The cost new hashes are written with (Interactive unless changed).
PasswordCost CurrentPasswordCost();
void SetPasswordCost(PasswordCost cost);

// Limits on what a password may be: at least this many characters (code points), at most
// this many bytes (argon2 hashes any length, but a megabyte password is an attack, not a
// password).
inline constexpr size_t MIN_PASSWORD_CHARS = 12;
inline constexpr size_t MAX_PASSWORD_BYTES = 1024;

// Why `password` is not acceptable as a new password, or success.
[[nodiscard]] Result<void> CheckPasswordStrength(std::string_view password);

// The argon2id hash string of `password` with the current cost. Fails only when the system
// cannot provide the memory the cost asks for.
[[nodiscard]] Result<std::string> HashPassword(std::string_view password);
[[nodiscard]] Result<std::string> HashPassword(std::string_view password, PasswordCost cost);

// True when `password` matches `hash`. False for an empty or malformed hash.
bool VerifyPassword(std::string_view hash, std::string_view password);

// True when `hash` was written with another cost than the current one (or another algorithm).
bool PasswordNeedsRehash(std::string_view hash);

// Spends the time of one verification without any account: used for unknown user names so
// they answer as slowly as wrong passwords for real ones.
void DummyPasswordVerification(std::string_view password);

}  // namespace yagura::hub
