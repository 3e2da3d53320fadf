// LiveMonitoring: the live half of `yagura serve` — syslog listeners, tailed files and the
// streaming detector around the ingest spool, built from the service's configuration.
//
// Sources append to the spool through the IngestQueue (as POST /api/v1/ingest does); the
// detector reads it and stores alerts and campaigns in the centre's database
// (hub::InsertDetections). Organisations in the configuration may be named by id or by name.
// Stop order matters: sources first (nothing new is accepted), then the detector, which
// finishes its batch and saves its state.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli/serve_config.hpp"
#include "core/metrics.hpp"
#include "core/result.hpp"
#include "pipeline/ingest_queue.hpp"
#include "store/database.hpp"

namespace yagura::pipeline {
class Detector;
class EventStore;
}

namespace yagura::cli {

class LiveMonitoring {
 public:
  static Result<std::unique_ptr<LiveMonitoring>> Start(const ServeConfig& config,
                                                       store::Database& database,
                                                       pipeline::IngestQueue& queue,
                                                       Metrics& metrics,
                                                       pipeline::EventStore* events = nullptr);
  ~LiveMonitoring();
  void Stop();
  // What is listening, for the start-up banner ("syslog tcp 127.0.0.1:5514", ...).
  [[nodiscard]] std::vector<std::string> Describe() const;
  // The streaming detector; null when detection is off. The console lists its rules and asks
  // it to reload (http/console_control.hpp).
  [[nodiscard]] pipeline::Detector* detector() const;

  struct Impl;

 private:
  explicit LiveMonitoring(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace yagura::cli
