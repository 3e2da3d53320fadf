#include "intel/indicator.hpp"

#include "intel/path_forms.hpp"

#include <algorithm>
#include <cctype>

namespace yagura::intel {
namespace {

std::string Lower(std::string_view text) {
  std::string out;
  LowerAscii(text, out);
  return out;
}

}  // namespace

std::string_view ToString(ObservableType type) {
  switch (type) {
    case ObservableType::kIpv4: return "ipv4";
    case ObservableType::kIpv6: return "ipv6";
    case ObservableType::kDomain: return "domain";
    case ObservableType::kUrl: return "url";
    case ObservableType::kHash: return "hash";
    case ObservableType::kEmail: return "email";
    case ObservableType::kFileName: return "file-name";
    case ObservableType::kProcessName: return "process-name";
    case ObservableType::kRegistryKey: return "registry-key";
    case ObservableType::kPort: return "port";
    case ObservableType::kUserAgent: return "user-agent";
  }
  return "unknown";
}

std::string_view ToString(HashAlgorithm algorithm) {
  switch (algorithm) {
    case HashAlgorithm::kNone: return "";
    case HashAlgorithm::kMd5: return "MD5";
    case HashAlgorithm::kSha1: return "SHA-1";
    case HashAlgorithm::kSha256: return "SHA-256";
    case HashAlgorithm::kSha512: return "SHA-512";
    case HashAlgorithm::kSha3_256: return "SHA3-256";
    case HashAlgorithm::kSha3_512: return "SHA3-512";
    case HashAlgorithm::kSsdeep: return "SSDEEP";
    case HashAlgorithm::kTlsh: return "TLSH";
    case HashAlgorithm::kImphash: return "IMPHASH";
  }
  return "";
}

std::string_view ToString(Tlp tlp) {
  switch (tlp) {
    case Tlp::kUnset: return "";
    case Tlp::kClear: return "TLP:CLEAR";
    case Tlp::kGreen: return "TLP:GREEN";
    case Tlp::kAmber: return "TLP:AMBER";
    case Tlp::kAmberStrict: return "TLP:AMBER+STRICT";
    case Tlp::kRed: return "TLP:RED";
  }
  return "";
}

std::optional<Tlp> ParseTlp(std::string_view text) {
  std::string lower = Lower(text);
  std::string_view name = lower;
  if (name.starts_with("tlp:")) name.remove_prefix(4);
  if (name == "clear" || name == "white") return Tlp::kClear;
  if (name == "green") return Tlp::kGreen;
  if (name == "amber") return Tlp::kAmber;
  if (name == "amber+strict" || name == "amber-strict") return Tlp::kAmberStrict;
  if (name == "red") return Tlp::kRed;
  return std::nullopt;
}

std::optional<HashAlgorithm> ParseHashAlgorithm(std::string_view text) {
  std::string name = Lower(text);
  std::erase(name, '-');
  std::erase(name, '_');
  if (name == "md5") return HashAlgorithm::kMd5;
  if (name == "sha1") return HashAlgorithm::kSha1;
  if (name == "sha256") return HashAlgorithm::kSha256;
  if (name == "sha512") return HashAlgorithm::kSha512;
  if (name == "sha3256") return HashAlgorithm::kSha3_256;
  if (name == "sha3512") return HashAlgorithm::kSha3_512;
  if (name == "ssdeep") return HashAlgorithm::kSsdeep;
  if (name == "tlsh") return HashAlgorithm::kTlsh;
  if (name == "imphash") return HashAlgorithm::kImphash;
  return std::nullopt;
}

HashAlgorithm HashAlgorithmForHexLength(size_t length) {
  switch (length) {
    case 32: return HashAlgorithm::kMd5;
    case 40: return HashAlgorithm::kSha1;
    case 64: return HashAlgorithm::kSha256;
    case 128: return HashAlgorithm::kSha512;
    default: return HashAlgorithm::kNone;
  }
}

}  // namespace yagura::intel
