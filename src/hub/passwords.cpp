// argon2id password hashes (see passwords.hpp).
//
// libsodium's str functions take NUL-terminated C strings for the hash but a pointer and length
// for the password, so passwords with any bytes (including NUL) hash correctly.
#include "hub/passwords.hpp"

#include <sodium.h>

#include <atomic>
#include <mutex>
#include <stdexcept>

#include "core/utf8.hpp"

namespace yagura::hub {
namespace {

void EnsureSodium() {
  static const bool ready = [] {
    if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
    return true;
  }();
  (void)ready;
}

std::atomic<uint64_t> cost_opslimit{crypto_pwhash_OPSLIMIT_INTERACTIVE};
std::atomic<size_t> cost_memlimit{crypto_pwhash_MEMLIMIT_INTERACTIVE};

// One dummy hash per cost, made on first use: verifying against it costs what a real
// verification costs.
std::mutex dummy_mutex;
PasswordCost dummy_cost;
std::string dummy_hash;

std::string DummyHashFor(PasswordCost cost) {
  std::lock_guard lock(dummy_mutex);
  if (dummy_hash.empty() || !(dummy_cost == cost)) {
    auto hashed = HashPassword("yagura dummy password, never valid", cost);
    dummy_hash = hashed ? *hashed : std::string();
    dummy_cost = cost;
  }
  return dummy_hash;
}

}  // namespace

PasswordCost PasswordCost::Interactive() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

PasswordCost PasswordCost::Minimal() {
  return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
}

PasswordCost CurrentPasswordCost() {
  return {cost_opslimit.load(std::memory_order_relaxed),
          cost_memlimit.load(std::memory_order_relaxed)};
}

void SetPasswordCost(PasswordCost cost) {
  cost_opslimit.store(cost.opslimit, std::memory_order_relaxed);
  cost_memlimit.store(cost.memlimit, std::memory_order_relaxed);
}

Result<void> CheckPasswordStrength(std::string_view password) {
  if (CodePoints(password) < MIN_PASSWORD_CHARS) {
    return Fail("the password must have at least " + std::to_string(MIN_PASSWORD_CHARS) +
                " characters");
  }
  if (password.size() > MAX_PASSWORD_BYTES) {
    return Fail("the password must not be longer than " + std::to_string(MAX_PASSWORD_BYTES) +
                " bytes");
  }
  return {};
}

Result<std::string> HashPassword(std::string_view password) {
  return HashPassword(password, CurrentPasswordCost());
}

Result<std::string> HashPassword(std::string_view password, PasswordCost cost) {
  EnsureSodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), cost.opslimit, cost.memlimit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Fail("could not hash the password (out of memory)");
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view hash, std::string_view password) {
  EnsureSodium();
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  std::string terminated(hash);  // libsodium reads the hash up to its NUL
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

bool PasswordNeedsRehash(std::string_view hash) {
  EnsureSodium();
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return true;
  std::string terminated(hash);
  PasswordCost cost = CurrentPasswordCost();
  // 1 = different parameters, -1 = not an argon2id string at all: both mean "hash again".
  return crypto_pwhash_str_needs_rehash(terminated.c_str(), cost.opslimit, cost.memlimit) != 0;
}

void DummyPasswordVerification(std::string_view password) {
  std::string hash = DummyHashFor(CurrentPasswordCost());
  (void)VerifyPassword(hash, password);
}

}  // namespace yagura::hub
