#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "cli/commands.hpp"

namespace yagura::cli {

std::string DataDir() {
  namespace fs = std::filesystem;
  if (const char* home = std::getenv("YAGURA_HOME"); home && *home) return home;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    // build/yagura or prefix/bin/yagura: the rules are one level up.
    for (fs::path dir = exe.parent_path(); !dir.empty() && dir != dir.root_path();
         dir = dir.parent_path()) {
      if (fs::exists(dir / "config" / "logsources.yml", ec)) return dir.string();
    }
  }
  return YAGURA_SOURCE_DIR;
}

}  // namespace yagura::cli
