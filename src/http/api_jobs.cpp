// Job routes under /api/v1/jobs: the progress of long operations (rule reloads, feed pulls,
// exports) that other routes started with 202 {"job": Job}.
//
// Jobs live in memory (http/jobs.hpp) and belong to the user who started them; the centre's
// administrators see every job, so one of them can follow a reload another started. A job the
// caller may not see answers 404 like any other invisible object. Job records hold no
// confidential data (the result of an export is a link its owner alone can download), so reads
// are not audited.
#include <stdexcept>
#include <string>

#include "core/json_value.hpp"
#include "http/api.hpp"
#include "http/jobs.hpp"

namespace yagura::http {
namespace {

constexpr std::string_view TAG = "jobs";

JobRegistry& RequireJobs(ApiContext& context) {
  if (context.jobs == nullptr) {
    throw ApiError(503, "jobs_unavailable", "long operations are not available on this server");
  }
  return *context.jobs;
}

Response ListJobsHandler(ApiContext& context, Request&, const hub::Principal& principal) {
  JsonValue items = JsonValue::MakeArray();
  for (const JobSnapshot& job : RequireJobs(context).List(principal)) items.Push(JobJson(job));
  JsonValue body = JsonValue::MakeObject();
  body.Set("items", std::move(items));
  return Response::Json(200, body.Serialize());
}

Response GetJobHandler(ApiContext& context, Request& request, const hub::Principal& principal) {
  std::optional<JobSnapshot> job = RequireJobs(context).Get(request.PathParam("id"), principal);
  if (!job) ThrowNotFound("job");
  return Response::Json(200, JobJson(*job).Serialize());
}

}  // namespace

void RegisterJobRoutes(Router& router, ApiContext& context) {
  // "Job" is also what every route starting a job answers inside "JobAccepted".
  RegisterSchema(context, "Job", R"({"type":"object",
    "required":["id","kind","state","progress","message","error","result","started_at",
                "finished_at","owner_user_id"],
    "properties":{
      "id":{"type":"string","format":"uuid"},
      "kind":{"type":"string","description":"rules.reload, intel.pull, export, ..."},
      "state":{"type":"string","enum":["running","succeeded","failed"]},
      "progress":{"type":"object","required":["done","total","unit"],"properties":{
        "done":{"type":"integer"},
        "total":{"type":"integer","description":"0 while unknown"},
        "unit":{"type":"string","description":"files, pages, objects, rows, ..."}}},
      "message":{"type":"string","description":"the current step"},
      "error":{"type":["string","null"]},
      "result":{"description":"what the job produced once succeeded; null before"},
      "started_at":{"type":"string","format":"date-time"},
      "finished_at":{"type":["string","null"],"format":"date-time"},
      "owner_user_id":{"type":"string"}}})");
  RegisterSchema(context, "JobAccepted", R"({"type":"object","required":["job"],
    "properties":{"job":{"$ref":"#/components/schemas/Job"}}})");
  RegisterSchema(context, "JobList", R"({"type":"object","required":["items"],
    "properties":{"items":{"type":"array","items":{"$ref":"#/components/schemas/Job"}}}})");

  auto bind = [&context](ContextHandler handler) { return BindAuthed(context, handler); };
  router.Add("GET", "/api/v1/jobs", bind(ListJobsHandler),
             RouteDoc{"The caller's long operations, newest first (every job for centre "
                      "administrators); finished jobs are kept for an hour",
                      std::string(TAG), "", "JobList", true, {}});
  router.Add("GET", "/api/v1/jobs/{id}", bind(GetJobHandler),
             RouteDoc{"One job's state and progress; 404 when it is not the caller's",
                      std::string(TAG), "", "Job", true, {}});
}

}  // namespace yagura::http
