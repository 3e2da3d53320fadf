// Alerts written through an AlertWriter into a temporary file, read back line by line.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "scan/alert_writer.hpp"

namespace yagura::scan {

// `times`: each alert's event time, as the scan passes it (none when shorter).
inline std::vector<std::string> WriteAlerts(const std::vector<AlertRecord>& alerts,
                                            OutputFormat format,
                                            const std::vector<std::optional<int64_t>>& times = {}) {
  std::vector<std::string> lines;
  char path[] = "/tmp/yagura-alerts-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) {
    ADD_FAILURE() << "cannot create a temporary file";
    return lines;
  }
  close(fd);
  {
    auto writer = AlertWriter::Open(path, format);
    if (!writer) {
      ADD_FAILURE() << writer.error().message;
      unlink(path);
      return lines;
    }
    for (size_t i = 0; i < alerts.size(); ++i)
      writer->Write(alerts[i], i < times.size() ? times[i] : std::nullopt);
    EXPECT_TRUE(writer->Finish().has_value());
  }
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  unlink(path);
  return lines;
}

}  // namespace yagura::scan
