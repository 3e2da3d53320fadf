// LogsourceMapping: what an event is (product, services, categories), decided from its content.
//
// The mapping is data (config/logsources.yml, compiled into the binary; another file may be given
// instead): Windows channels and event ids (Security, System, Sysmon, PowerShell, Defender, ...),
// Linux syslog programs, Zeek log paths, web server and proxy logs. It may also rename fields for
// one class of events, as the windows-audit pipeline does for Security 4688
// (NewProcessName -> Image, ParentProcessName -> ParentImage).
// Routing policy for events that match no entry: see docs/logsources.md.
// Thread-safety: immutable after Load(); Classify() may be called from many threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "event/event.hpp"
#include "event/field_catalog.hpp"

namespace yagura::event {

class LogsourceMapping {
 public:
  // The mapping shipped with Yagura.
  [[nodiscard]] static Result<LogsourceMapping> LoadDefault();
  [[nodiscard]] static Result<LogsourceMapping> LoadFile(const std::string& path);
  [[nodiscard]] static Result<LogsourceMapping> LoadText(std::string_view yaml, std::string_view where);

  LogsourceMapping(LogsourceMapping&&) noexcept;
  LogsourceMapping& operator=(LogsourceMapping&&) noexcept;
  ~LogsourceMapping();

  // Interns the fields classification reads (Channel, EventID, Provider_Name, program, _path...)
  // and those field renames write. Call once, before the catalog is frozen.
  void InternFields(FieldCatalog& catalog);

  // Fills event.logsource from the event's fields and `format`, and applies field renames.
  // Leaves logsource.recognised false when nothing matches.
  void Classify(Event& event) const;

 private:
  LogsourceMapping();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace yagura::event
