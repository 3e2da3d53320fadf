// Long-running operations started from the API (rule reloads, feed pulls, exports).
//
// A request that would take longer than a page load answers 202 with a job; the console then
// polls GET /api/v1/jobs/{id} and draws a progress bar from `progress`. Jobs run on their own
// threads so that an export of a million alerts never holds an I/O thread. The registry is in
// memory: a restart forgets jobs (their effects, a reloaded rule set or a written export, are
// durable elsewhere), which keeps the store free of bookkeeping rows that nobody audits.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/json_value.hpp"
#include "core/result.hpp"
#include "hub/principal.hpp"
#include "http/message.hpp"

namespace yagura::http {

enum class JobState { kRunning, kSucceeded, kFailed };

// What a running job reports; read by the API while the job writes it.
class JobHandle {
 public:
  virtual ~JobHandle() = default;
  // The amount of work in `unit`s ("rules", "objects", "alerts"); 0 when unknown.
  virtual void SetTotal(int64_t total, std::string unit) = 0;
  virtual void Advance(int64_t done_delta) = 0;
  virtual void SetDone(int64_t done) = 0;
  // A short human-readable step ("compiling matcher", "page 3").
  virtual void SetMessage(std::string message) = 0;
  // True once the service is stopping: a job should return soon.
  [[nodiscard]] virtual bool stopping() const = 0;
  // The job's id (for audit entries that name it); empty for handles outside a registry.
  [[nodiscard]] virtual std::string id() const { return {}; }
};

// The JSON a job answers with: {"id","kind","state":"running|succeeded|failed",
// "progress":{"done","total","unit"},"message","error","result","started_at","finished_at",
// "owner_user_id"}. `result` is what the job's function returned on success.
struct JobSnapshot {
  std::string id;
  std::string kind;
  JobState state = JobState::kRunning;
  int64_t done = 0;
  int64_t total = 0;
  std::string unit;
  std::string message;
  std::string error;
  std::optional<JsonValue> result;
  int64_t started_at_ms = 0;
  int64_t finished_at_ms = 0;  // 0 while running
  std::string owner_user_id;
  std::string owner_org_id;
};
JsonValue JobJson(const JobSnapshot& job);

class JobRegistry {
 public:
  using JobFunction = std::function<Result<JsonValue>(JobHandle&)>;

  // Finished jobs are kept `keep_finished_ms` and at most `max_finished` of them.
  explicit JobRegistry(int64_t keep_finished_ms = 3600 * 1000, size_t max_finished = 500);
  ~JobRegistry();  // Stop()
  JobRegistry(const JobRegistry&) = delete;
  JobRegistry& operator=(const JobRegistry&) = delete;

  // Runs `function` on a new thread; returns the job's id (UUIDv7). At most
  // `max_running_per_kind` jobs of one kind run at once: beyond it, the error is returned and
  // the API answers 409 (a second rule reload while one runs is refused, not queued).
  Result<std::string> Start(std::string kind, const hub::Principal& owner, JobFunction function,
                            size_t max_running_per_kind = 1);

  // A job the principal may see: its own, or any job for the centre's administrators.
  std::optional<JobSnapshot> Get(std::string_view id, const hub::Principal& viewer) const;
  // The principal's visible jobs, newest first.
  std::vector<JobSnapshot> List(const hub::Principal& viewer) const;

  // Tells running jobs to stop and waits for them. Start() refuses new jobs afterwards.
  void Stop();
  [[nodiscard]] bool stopping() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// What a route that starts a job answers: 202 {"job": Job} once started; 503
// "jobs_unavailable" when `jobs` is null or stopping; 409 "job_running" when a job of the same
// kind is still running. Every such route answers the same way, so the console handles all of
// them with one code path.
Response StartJobResponse(JobRegistry* jobs, std::string kind, const hub::Principal& owner,
                          JobRegistry::JobFunction function);

}  // namespace yagura::http
