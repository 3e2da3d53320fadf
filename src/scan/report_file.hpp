// ReportFile: a file a command writes besides its main output (`scan --pivot-keywords`,
// `--html-report`, `--attack-layer`, `rules list --attack-layer`): opened before the work, so
// that a path that takes no file is said at once and not after a long hunt, and written whole
// after it. Errors name the option and the path.
#pragma once

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace yagura::scan {

class ReportFile {
 public:
  [[nodiscard]] Result<void> Open(const std::string& path, std::string_view option) {
    path_ = path;
    option_ = option;
    file_.reset(std::fopen(path.c_str(), "wb"));
    return file_ ? Result<void>{} : Failure();
  }
  [[nodiscard]] bool is_open() const { return file_ != nullptr; }
  [[nodiscard]] Result<void> WriteAndClose(std::string_view text) {
    const bool written = std::fwrite(text.data(), 1, text.size(), file_.get()) == text.size();
    if (std::fclose(file_.release()) != 0 || !written) return Failure();
    return {};
  }

 private:
  [[nodiscard]] Result<void> Failure() const {
    return Fail(fmt::format("{}: cannot write {}: {}", option_, path_, std::strerror(errno)));
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_{nullptr, &std::fclose};
  std::string path_;
  std::string_view option_;
};

}  // namespace yagura::scan
