// The job registry: one thread per job, state in a mutex-guarded map (see jobs.hpp).
//
// Jobs are rare (a rule reload, a feed pull, an export) and long, so a thread each is simpler
// and cheaper than a pool: nothing queues behind a slow export. Each job keeps its own mutex,
// so a job reporting progress never contends with the API listing other jobs; readers copy a
// snapshot out and never hold a lock while serialising. Finished jobs are pruned (by age and
// count) whenever a job starts or a list is read; their threads are joined outside the lock
// (a finished job's thread has already returned from its function, so the join is immediate).
#include "http/jobs.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <map>
#include <thread>
#include <tuple>

#include <fmt/format.h>

#include "core/time.hpp"
#include "hub/crypto.hpp"

namespace yagura::http {

namespace {

std::string_view StateName(JobState state) {
  switch (state) {
    case JobState::kRunning: return "running";
    case JobState::kSucceeded: return "succeeded";
    case JobState::kFailed: return "failed";
  }
  return "running";
}

struct Job {
  mutable std::mutex mutex;
  JobSnapshot snapshot;  // guarded by mutex
  std::thread thread;    // guarded by the registry's mutex
  uint64_t sequence = 0; // start order (UUIDv7 ids of one millisecond are not ordered)
};

// The handle the job's function reports through; it writes into the job under its mutex.
class Handle final : public JobHandle {
 public:
  Handle(Job& job, const std::atomic<bool>& stopping) : job_(job), stopping_(stopping) {}

  void SetTotal(int64_t total, std::string unit) override {
    std::lock_guard lock(job_.mutex);
    job_.snapshot.total = std::max<int64_t>(total, 0);
    job_.snapshot.unit = std::move(unit);
  }
  void Advance(int64_t done_delta) override {
    std::lock_guard lock(job_.mutex);
    job_.snapshot.done += done_delta;
  }
  void SetDone(int64_t done) override {
    std::lock_guard lock(job_.mutex);
    job_.snapshot.done = done;
  }
  void SetMessage(std::string message) override {
    std::lock_guard lock(job_.mutex);
    job_.snapshot.message = std::move(message);
  }
  [[nodiscard]] bool stopping() const override {
    return stopping_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] std::string id() const override { return job_.snapshot.id; }  // set before start

 private:
  Job& job_;
  const std::atomic<bool>& stopping_;
};

bool MayView(const JobSnapshot& job, const hub::Principal& viewer) {
  return job.owner_user_id == viewer.user_id || viewer.Has(hub::Role::kCentreAdmin);
}

}  // namespace

JsonValue JobJson(const JobSnapshot& job) {
  JsonValue progress = JsonValue::MakeObject();
  progress.Set("done", job.done);
  progress.Set("total", job.total);
  progress.Set("unit", job.unit);
  JsonValue json = JsonValue::MakeObject();
  json.Set("id", job.id);
  json.Set("kind", job.kind);
  json.Set("state", StateName(job.state));
  json.Set("progress", std::move(progress));
  json.Set("message", job.message);
  json.Set("error", job.error.empty() ? JsonValue() : JsonValue(job.error));
  json.Set("result", job.result ? *job.result : JsonValue());
  json.Set("started_at", FormatTimestampMs(job.started_at_ms));
  json.Set("finished_at",
           job.finished_at_ms == 0 ? JsonValue() : JsonValue(FormatTimestampMs(job.finished_at_ms)));
  json.Set("owner_user_id", job.owner_user_id);
  return json;
}

struct JobRegistry::Impl {
  int64_t keep_finished_ms;
  size_t max_finished;
  std::atomic<bool> stopping{false};
  mutable std::mutex mutex;
  std::map<std::string, std::shared_ptr<Job>, std::less<>> jobs;  // by id
  uint64_t started = 0;  // jobs started so far: the next job's sequence

  // Removes finished jobs beyond the age and count limits; returns their threads to be
  // joined once the lock is released. Called with `mutex` held.
  std::vector<std::thread> PruneLocked() {
    int64_t now = NowMs();
    // (finished_at, start order, id) of the finished jobs
    std::vector<std::tuple<int64_t, uint64_t, std::string>> finished;
    for (const auto& [id, job] : jobs) {
      std::lock_guard job_lock(job->mutex);
      if (job->snapshot.state != JobState::kRunning) {
        finished.emplace_back(job->snapshot.finished_at_ms, job->sequence, id);
      }
    }
    std::sort(finished.begin(), finished.end(), std::greater<>());  // newest first
    std::vector<std::thread> threads;
    for (size_t i = 0; i < finished.size(); ++i) {
      bool too_old = now - std::get<0>(finished[i]) > keep_finished_ms;
      if (i < max_finished && !too_old) continue;
      auto found = jobs.find(std::get<2>(finished[i]));
      if (found->second->thread.joinable()) threads.push_back(std::move(found->second->thread));
      jobs.erase(found);
    }
    return threads;
  }

  static void Join(std::vector<std::thread>& threads) {
    for (auto& thread : threads) {
      if (thread.joinable()) thread.join();
    }
  }
};

JobRegistry::JobRegistry(int64_t keep_finished_ms, size_t max_finished)
    : impl_(std::make_unique<Impl>()) {
  impl_->keep_finished_ms = keep_finished_ms;
  impl_->max_finished = max_finished;
}

JobRegistry::~JobRegistry() { Stop(); }

Result<std::string> JobRegistry::Start(std::string kind, const hub::Principal& owner,
                                       JobFunction function, size_t max_running_per_kind) {
  std::vector<std::thread> pruned;
  std::string id;
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopping) return Fail("the service is stopping");
    pruned = impl_->PruneLocked();
    size_t running = 0;
    for (const auto& [job_id, job] : impl_->jobs) {
      std::lock_guard job_lock(job->mutex);
      if (job->snapshot.kind == kind && job->snapshot.state == JobState::kRunning) ++running;
    }
    if (running >= max_running_per_kind) {
      return Fail(fmt::format("a {} job is already running", kind));
    }
    auto job = std::make_shared<Job>();
    id = hub::NewId();
    job->sequence = ++impl_->started;
    job->snapshot.id = id;
    job->snapshot.kind = std::move(kind);
    job->snapshot.started_at_ms = NowMs();
    job->snapshot.owner_user_id = owner.user_id;
    job->snapshot.owner_org_id = owner.org_id;
    // The thread only touches its own Job (kept alive by the shared_ptr it holds), never the
    // map, so pruning or Stop() can proceed while it runs.
    job->thread = std::thread([job, function = std::move(function), &stopping = impl_->stopping] {
      Handle handle(*job, stopping);
      Result<JsonValue> result = Fail("the job did not run");
      try {
        result = function(handle);
      } catch (const std::exception& error) {
        result = Fail(error.what());
      } catch (...) {
        result = Fail("the job failed unexpectedly");
      }
      std::lock_guard job_lock(job->mutex);
      if (result) {
        job->snapshot.state = JobState::kSucceeded;
        job->snapshot.result = std::move(*result);
      } else {
        job->snapshot.state = JobState::kFailed;
        job->snapshot.error = result.error().ToString();
      }
      job->snapshot.finished_at_ms = std::max(NowMs(), job->snapshot.started_at_ms);
    });
    impl_->jobs.emplace(id, std::move(job));
  }
  Impl::Join(pruned);
  return id;
}

std::optional<JobSnapshot> JobRegistry::Get(std::string_view id,
                                            const hub::Principal& viewer) const {
  std::lock_guard lock(impl_->mutex);
  auto found = impl_->jobs.find(id);
  if (found == impl_->jobs.end()) return std::nullopt;
  std::lock_guard job_lock(found->second->mutex);
  if (!MayView(found->second->snapshot, viewer)) return std::nullopt;
  return found->second->snapshot;
}

std::vector<JobSnapshot> JobRegistry::List(const hub::Principal& viewer) const {
  std::vector<JobSnapshot> visible;
  std::vector<std::thread> pruned;
  {
    std::lock_guard lock(impl_->mutex);
    pruned = impl_->PruneLocked();
    std::vector<const Job*> ordered;
    for (const auto& [id, job] : impl_->jobs) ordered.push_back(job.get());
    std::sort(ordered.begin(), ordered.end(),
              [](const Job* a, const Job* b) { return a->sequence > b->sequence; });  // newest first
    for (const Job* job : ordered) {
      std::lock_guard job_lock(job->mutex);
      if (MayView(job->snapshot, viewer)) visible.push_back(job->snapshot);
    }
  }
  Impl::Join(pruned);
  return visible;
}

void JobRegistry::Stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
    for (auto& [id, job] : impl_->jobs) {
      if (job->thread.joinable()) threads.push_back(std::move(job->thread));
    }
  }
  Impl::Join(threads);
}

bool JobRegistry::stopping() const { return impl_->stopping.load(); }

Response StartJobResponse(JobRegistry* jobs, std::string kind, const hub::Principal& owner,
                          JobRegistry::JobFunction function) {
  if (jobs == nullptr || jobs->stopping()) {
    return Response::Error(503, "jobs_unavailable", "long operations are not available now");
  }
  Result<std::string> id = jobs->Start(std::move(kind), owner, std::move(function));
  if (!id) {
    if (jobs->stopping()) {
      return Response::Error(503, "jobs_unavailable", "long operations are not available now");
    }
    return Response::Error(409, "job_running", id.error().message);
  }
  std::optional<JobSnapshot> snapshot = jobs->Get(*id, owner);
  JsonValue body = JsonValue::MakeObject();
  body.Set("job", snapshot ? JobJson(*snapshot) : JsonValue());
  return Response::Json(202, body.Serialize());
}

}  // namespace yagura::http
