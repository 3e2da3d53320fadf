#!/usr/bin/env bash
# `yagura admin init` + `yagura serve` end to end over real HTTP(S) on loopback, on the embedded
# SQLite store or on PostgreSQL (the second argument): bootstrap, health, metrics, OpenAPI,
# login with cookie + CSRF, organisations and users, an incident that another organisation
# cannot see, an investigation fed by `yagura scan`'s output (its evidence, custody and
# timeline), an audit against SP 800-53's MODERATE baseline, the audit log, SIGTERM, and `admin verify-audit` catching a tampered entry.
# usage: serve_api.sh YAGURA_BINARY sqlite|postgres
set -u
yagura=$1
engine=${2:-sqlite}
work=$(mktemp -d)
server_pid=
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  if [[ -n ${schema:-} ]]; then psql "$YAGURA_TEST_POSTGRES_URL" -qc "DROP SCHEMA $schema CASCADE" >/dev/null 2>&1; fi
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
json() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

data=$work/data
db_args=()
sql() { sqlite3 "$data/yagura.db" "$1"; }
if [[ $engine == postgres ]]; then
  if [[ -z ${YAGURA_TEST_POSTGRES_URL:-} ]]; then
    echo "SKIP: YAGURA_TEST_POSTGRES_URL is not set (run through scripts/with-postgres)"
    exit 0
  fi
  schema=serve_$RANDOM$RANDOM
  psql "$YAGURA_TEST_POSTGRES_URL" -qc "CREATE SCHEMA $schema" || { echo "FAIL: cannot create schema"; exit 1; }
  sep='?'; [[ $YAGURA_TEST_POSTGRES_URL == *\?* ]] && sep='&'
  db_args=(--database "${YAGURA_TEST_POSTGRES_URL}${sep}options=-csearch_path%3D$schema")
  sql() { PGOPTIONS="-csearch_path=$schema" psql "$YAGURA_TEST_POSTGRES_URL" -qAtc "$1"; }
fi

# --- bootstrap -----------------------------------------------------------------------------
export YAGURA_ADMIN_USER=chief YAGURA_ADMIN_PASSWORD='correct horse battery staple'
"$yagura" admin init --data "$data" "${db_args[@]}" >"$work/init1" 2>&1 || fail "admin init: $(cat "$work/init1")"
grep -q 'administrator "chief"' "$work/init1" || { fail "admin init did not report the administrator"; cat "$work/init1"; }
"$yagura" admin init --data "$data" "${db_args[@]}" >"$work/init2" 2>&1 || fail "second admin init failed"
grep -q "already has an administrator" "$work/init2" || fail "second admin init is not idempotent: $(cat "$work/init2")"
unset YAGURA_ADMIN_PASSWORD
generated=$("$yagura" admin init --data "$work/data2" 2>&1 | sed -n 's/^Generated password (shown only now): //p')
[[ ${#generated} -ge 16 ]] || fail "admin init without YAGURA_ADMIN_PASSWORD printed no generated password"

# --- start ---------------------------------------------------------------------------------
start_server() {
  # A fresh output file each time: reading the previous server's "serving" line would race.
  rm -f "$work/serve.out" "$work/serve.err"
  "$yagura" serve --data "$data" "${db_args[@]}" --listen 127.0.0.1:0 "$@" >"$work/serve.out" 2>"$work/serve.err" &
  server_pid=$!
  for _ in $(seq 100); do
    url=$(sed -n 's/^Yagura is serving .* on \(https\?:\/\/[^ ]*\)$/\1/p' "$work/serve.out" 2>/dev/null)
    [[ -n $url ]] && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "FAIL: the server did not start"; cat "$work/serve.out" "$work/serve.err"; exit 1
}
stop_server() {
  kill -TERM "$server_pid"
  wait "$server_pid"; local status=$?
  server_pid=
  [[ $status -eq 0 ]] || fail "serve exited with $status after SIGTERM"
  grep -q "SIGTERM received" "$work/serve.err" || fail "no graceful-shutdown message"
}
start_server
curl_json() { curl -s -o "$work/body" -w '%{http_code}' "$@"; }

[[ $(curl_json "$url/healthz") == 200 ]] || fail "healthz"
[[ $(json "$work/body" "d['database']") == ok ]] || fail "healthz database"
[[ $(json "$work/body" "d['ingest']['status']") == ok ]] || fail "healthz ingest: $(cat "$work/body")"
[[ $(curl_json "$url/api/v1/openapi.json") == 200 ]] || fail "openapi"
[[ $(json "$work/body" "d['openapi']") == 3.1.0 ]] || fail "openapi version"
[[ $(json "$work/body" "'/api/v1/incidents' in d['paths'] and '/api/v1/audit-log' in d['paths']") == True ]] || fail "openapi paths"
[[ $(curl_json "$url/api/v1/incidents") == 401 ]] || fail "unauthenticated list must be 401"

# --- login: cookie and CSRF ------------------------------------------------------------------
login() {  # login USER PASSWORD JAR -> csrf token on stdout
  curl -s -c "$3" -o "$work/login" -w '%{http_code}' -H 'Content-Type: application/json' \
    -d "{\"username\":\"$1\",\"password\":\"$2\"}" "$url/api/v1/auth/login" >"$work/login.status"
  [[ $(cat "$work/login.status") == 200 ]] || { fail "login $1: $(cat "$work/login.status") $(cat "$work/login")"; return; }
  json "$work/login" "d['csrf_token']"
}
curl -s -D "$work/headers" -o /dev/null -H 'Content-Type: application/json' \
  -d '{"username":"chief","password":"correct horse battery staple"}' "$url/api/v1/auth/login"
grep -qi '^set-cookie: yagura_session=.*HttpOnly' "$work/headers" || fail "session cookie not HttpOnly"
grep -qi '^set-cookie: .*SameSite=Strict' "$work/headers" || fail "session cookie not SameSite=Strict"
grep -qi '^x-content-type-options: nosniff' "$work/headers" || fail "security headers missing"
admin_csrf=$(login chief 'correct horse battery staple' "$work/admin.jar")
post() {  # post JAR CSRF PATH BODY
  curl_json -b "$1" -H "X-CSRF-Token: $2" -H 'Content-Type: application/json' -d "$4" "$url$3"
}
[[ $(curl_json -b "$work/admin.jar" -H 'Content-Type: application/json' -d '{"name":"No CSRF","type":"ministry"}' "$url/api/v1/organizations") == 403 ]] || fail "POST without CSRF token must be 403"

# --- organisations, users ----------------------------------------------------------------------
[[ $(post "$work/admin.jar" "$admin_csrf" /api/v1/organizations '{"name":"Ministry of Examples","type":"ministry"}') == 201 ]] || fail "create org: $(cat "$work/body")"
ministry=$(json "$work/body" "d['id']")
[[ $(post "$work/admin.jar" "$admin_csrf" /api/v1/organizations '{"name":"Example Power","type":"critical_infrastructure","sector":"electric_power"}') == 201 ]] || fail "create org 2: $(cat "$work/body")"
power=$(json "$work/body" "d['id']")
[[ $(post "$work/admin.jar" "$admin_csrf" /api/v1/organizations '{"name":"Bad","type":"critical_infrastructure"}') == 400 ]] || fail "critical infrastructure without sector must be 400"
[[ $(post "$work/admin.jar" "$admin_csrf" /api/v1/users "{\"username\":\"reporter\",\"display_name\":\"Reporter\",\"org_id\":\"$ministry\",\"roles\":[\"org_reporter\"],\"password\":\"reporter password 1\"}") == 201 ]] || fail "create user: $(cat "$work/body")"
[[ $(post "$work/admin.jar" "$admin_csrf" /api/v1/users "{\"username\":\"other\",\"display_name\":\"Other\",\"org_id\":\"$power\",\"roles\":[\"org_reporter\"],\"password\":\"other password 12\"}") == 201 ]] || fail "create user 2: $(cat "$work/body")"

# --- an incident and its confidentiality ----------------------------------------------------------
reporter_csrf=$(login reporter 'reporter password 1' "$work/reporter.jar")
other_csrf=$(login other 'other password 12' "$work/other.jar")
incident='{"title":"Phishing wave","description":"Credential phishing against staff","category":"phishing",
 "functional_impact":"minimal_impact_to_non_critical_services","information_impact":"suspected_but_not_identified",
 "recoverability":"regular","location":"1","detected_at":"2026-11-26T09:30:00+09:00","tlp":"amber",
 "point_of_contact":{"name":"Hanako Sato","email":"sato@example.go.jp"}}'
[[ $(post "$work/reporter.jar" "$reporter_csrf" /api/v1/incidents "$incident") == 201 ]] || fail "report incident: $(cat "$work/body")"
incident_id=$(json "$work/body" "d['id']")
[[ $(json "$work/body" "len(d['score']['factors']) > 0") == True ]] || fail "incident has no score breakdown"
[[ $(curl_json -b "$work/reporter.jar" "$url/api/v1/incidents") == 200 ]] || fail "list incidents"
[[ $(json "$work/body" "len(d['items'])") == 1 ]] || fail "reporter should see one incident"
[[ $(curl_json -b "$work/other.jar" "$url/api/v1/incidents") == 200 ]] || fail "other list"
[[ $(json "$work/body" "len(d['items'])") == 0 ]] || fail "LEAK: another organisation sees the incident in the list"
[[ $(curl_json -b "$work/other.jar" "$url/api/v1/incidents/$incident_id") == 404 ]] || fail "LEAK: another organisation reads the incident by id"
[[ $(curl_json -b "$work/admin.jar" "$url/api/v1/incidents/$incident_id") == 200 ]] || fail "the duty officer cannot triage the reported incident"
[[ $(post "$work/reporter.jar" "$reporter_csrf" /api/v1/incidents '{"title":1}') == 400 ]] || fail "bad incident body must be 400"
[[ $(json "$work/body" "d['error']['field']") == title ]] || fail "the error does not name the field"
[[ $(curl_json -b "$work/reporter.jar" -H "X-CSRF-Token: $reporter_csrf" -H 'Content-Type: application/json' -d '{"title":' "$url/api/v1/incidents") == 400 ]] || fail "malformed JSON must be 400"

# --- a sensor sends events (ingest is durable before 202) -------------------------------------------
"$yagura" admin sensor-token --data "$data" "${db_args[@]}" --org "Ministry of Examples" \
  --logsource service=sysmon,product=windows --name dc01 >"$work/sensor" 2>&1 || fail "admin sensor-token: $(cat "$work/sensor")"
sensor=$(sed -n 's/^Token (shown only now): //p' "$work/sensor")
[[ $sensor == ygs_* ]] || fail "no sensor token printed"
printf '{"EventID":4625,"TargetUserName":"alice","Computer":"DC01.example.go.jp"}\nnot json\n{"EventID":4624,"Computer":"DC01.example.go.jp"}\n' >"$work/events.ndjson"
[[ $(curl_json -H "Authorization: Bearer $sensor" -H 'Content-Type: application/x-ndjson' --data-binary @"$work/events.ndjson" "$url/api/v1/ingest") == 202 ]] \
  || fail "ingest: $(cat "$work/body")"
[[ $(json "$work/body" "(d['accepted'], d['rejected'], d['errors'][0]['line'])") == "(2, 1, 2)" ]] || fail "ingest counts: $(cat "$work/body")"
[[ $(curl_json -H "Authorization: Bearer ygs_forged" -H 'Content-Type: application/x-ndjson' -d '{}' "$url/api/v1/ingest") == 401 ]] || fail "a forged sensor token must be 401"

# --- an investigation fed by a hunt ------------------------------------------------------------
# The investigator scans the collected logs with `yagura scan`, imports its alerts and its
# Timesketch output into the case's timeline, and registers the collection as evidence.
samples=$(cd "$(dirname "$0")/../../samples" && pwd)
[[ $(curl_json -b "$work/admin.jar" "$url/api/v1/organizations") == 200 ]] || fail "list organisations"
centre=$(json "$work/body" "[o['id'] for o in d['items'] if o['type'] == 'centre'][0]")
[[ $(post "$work/admin.jar" "$admin_csrf" /api/v1/users "{\"username\":\"investigator\",\"display_name\":\"Investigator\",\"org_id\":\"$centre\",\"roles\":[\"investigator\"],\"password\":\"investigator password\"}") == 201 ]] || fail "create investigator: $(cat "$work/body")"
investigator_csrf=$(login investigator 'investigator password' "$work/investigator.jar")
[[ $(post "$work/investigator.jar" "$investigator_csrf" /api/v1/cases "{\"title\":\"Phishing wave\",\"incident_ids\":[]}") == 201 ]] || fail "open case: $(cat "$work/body")"
case_id=$(json "$work/body" "d['id']")
[[ $(curl_json -b "$work/admin.jar" "$url/api/v1/cases/$case_id") == 404 ]] || fail "LEAK: the duty officer reads a case they are not a member of"
"$yagura" scan "$samples/windows" "$samples/linux" >"$work/alerts.jsonl" 2>/dev/null
"$yagura" scan --output-format timesketch "$samples/windows" "$samples/linux" >"$work/alerts.sketch.jsonl" 2>/dev/null
alerts=$(wc -l <"$work/alerts.jsonl")
[[ $alerts -gt 0 ]] || fail "the samples gave no alerts"
import() {  # import FILE SOURCE
  curl_json -b "$work/investigator.jar" -H "X-CSRF-Token: $investigator_csrf" -H 'Content-Type: application/x-ndjson' \
    --data-binary @"$1" "$url/api/v1/cases/$case_id/timeline/imports?source=$2"
}
[[ $(import "$work/alerts.jsonl" samples) == 201 ]] || fail "import scan alerts: $(cat "$work/body")"
[[ $(json "$work/body" "(d['entries'], d['format'])") == "($alerts, 'yagura-alerts')" ]] || fail "import counts: $(cat "$work/body")"
[[ $(import "$work/alerts.sketch.jsonl" samples-timesketch) == 201 ]] || fail "import Timesketch lines: $(cat "$work/body")"
[[ $(json "$work/body" "(d['entries'], d['format'])") == "($alerts, 'timesketch')" ]] || fail "Timesketch import counts: $(cat "$work/body")"
[[ $(curl_json -b "$work/investigator.jar" "$url/api/v1/cases/$case_id/timeline?kind=alert&limit=200") == 200 ]] || fail "timeline"
[[ $(json "$work/body" "len(d['items'])") == $((alerts * 2)) ]] || fail "timeline entries: $(json "$work/body" "len(d['items'])")"
[[ $(json "$work/body" "all(a['at'] <= b['at'] for a, b in zip(d['items'], d['items'][1:]))") == True ]] || fail "timeline not in time order"
tar -C "$samples" -czf "$work/collection.tgz" windows linux
digest=$(sha256sum "$work/collection.tgz" | cut -d' ' -f1)
[[ $(post "$work/investigator.jar" "$investigator_csrf" "/api/v1/cases/$case_id/evidence" "{\"label\":\"Collected logs\",\"kind\":\"log_collection\",\"acquired_at\":\"2026-11-26T10:00:00+09:00\",\"acquired_by\":\"Hanako Sato\",\"holder\":\"Hanako Sato\",\"sha256\":\"$digest\"}") == 201 ]] || fail "register evidence: $(cat "$work/body")"
evidence=$(json "$work/body" "d['id']")
[[ $(curl_json -b "$work/investigator.jar" -H "X-CSRF-Token: $investigator_csrf" -X PUT -H 'Content-Type: application/gzip' \
  --data-binary @"$work/collection.tgz" "$url/api/v1/cases/$case_id/evidence/$evidence/content?filename=collection.tgz") == 201 ]] || fail "upload evidence: $(cat "$work/body")"
curl -s -b "$work/investigator.jar" -o "$work/downloaded.tgz" "$url/api/v1/cases/$case_id/evidence/$evidence/content?purpose=Timeline%20rebuild"
cmp -s "$work/collection.tgz" "$work/downloaded.tgz" || fail "the downloaded evidence differs from the upload"
[[ $(curl_json -b "$work/investigator.jar" "$url/api/v1/cases/$case_id/evidence/$evidence/custody") == 200 ]] || fail "custody"
[[ $(json "$work/body" "[e['action'] for e in d['items']]") == "['acquired', 'content_added', 'accessed']" ]] || fail "custody chain: $(cat "$work/body")"
[[ $(curl_json -b "$work/investigator.jar" "$url/api/v1/cases/$case_id/evidence/$evidence/integrity") == 200 ]] || fail "integrity"
[[ $(json "$work/body" "d['intact']") == True ]] || fail "integrity: $(cat "$work/body")"
sql "UPDATE custody_events SET purpose = 'nothing' WHERE action = 'accessed'" >/dev/null
curl_json -b "$work/investigator.jar" "$url/api/v1/cases/$case_id/evidence/$evidence/integrity" >/dev/null
[[ $(json "$work/body" "(d['intact'], d['chain']['first_bad_seq'])") == "(False, 3)" ]] || fail "a tampered custody event was not found: $(cat "$work/body")"

# --- raw events from the event store into the case ------------------------------------------------
# Detection keeps what the sensor sent above; the investigator finds the host's events and
# copies them into the case, the ministry reads its own events, another organisation none.
for _ in $(seq 100); do
  curl_json -b "$work/investigator.jar" "$url/api/v1/events?host=dc01.example.go.jp" >/dev/null
  [[ $(json "$work/body" "len(d['items'])") == 2 ]] && break
  sleep 0.1
done
[[ $(json "$work/body" "[e['event']['EventID'] for e in d['items']]") == "[4625, 4624]" ]] || fail "stored events: $(cat "$work/body")"
[[ $(json "$work/body" "d['items'][0]['org_id']") == "$ministry" ]] || fail "stored event's organisation: $(cat "$work/body")"
[[ $(curl_json -b "$work/reporter.jar" "$url/api/v1/events") == 200 && $(json "$work/body" "len(d['items'])") == 2 ]] || fail "the ministry reads its own events: $(cat "$work/body")"
[[ $(curl_json -b "$work/other.jar" "$url/api/v1/events") == 200 && $(json "$work/body" "len(d['items'])") == 0 ]] || fail "LEAK: another organisation reads the ministry's events"
window=$(/usr/bin/python3 -c 'import datetime as t; n=t.datetime.now(t.timezone.utc); f="%Y-%m-%dT%H:%M:%SZ"; print((n-t.timedelta(hours=1)).strftime(f), (n+t.timedelta(minutes=5)).strftime(f))')
[[ $(post "$work/investigator.jar" "$investigator_csrf" "/api/v1/cases/$case_id/timeline/events" "{\"host\":\"DC01.example.go.jp\",\"from\":\"${window% *}\",\"to\":\"${window#* }\"}") == 201 ]] || fail "copy events into the case: $(cat "$work/body")"
[[ $(json "$work/body" "(d['entries'], d['format'])") == "(2, 'timesketch')" ]] || fail "copied events: $(cat "$work/body")"
[[ $(curl_json -b "$work/investigator.jar" "$url/api/v1/cases/$case_id/timeline?kind=event&host=dc01.example.go.jp") == 200 ]] || fail "timeline events"
[[ $(json "$work/body" "len(d['items'])") == 2 ]] || fail "the case's timeline lacks the copied events: $(cat "$work/body")"
[[ $(curl_json "$url/healthz") == 200 && $(json "$work/body" "(d['events']['status'], d['events']['events'] >= 2)") == "('ok', True)" ]] || fail "healthz events: $(cat "$work/body")"
# The same events on the command line, read beside the running service.
"$yagura" events --data "$data" --host DC01.EXAMPLE.GO.JP >"$work/events.jsonl" 2>"$work/events.err" || fail "yagura events: $(cat "$work/events.err")"
[[ $(wc -l <"$work/events.jsonl") == 2 ]] || fail "yagura events: $(cat "$work/events.jsonl" "$work/events.err")"
[[ $(/usr/bin/python3 -c 'import json,sys; print([json.loads(l)["event"]["EventID"] for l in open(sys.argv[1])])' "$work/events.jsonl") == "[4625, 4624]" ]] || fail "yagura events lines: $(cat "$work/events.jsonl")"
"$yagura" events --data "$data" --format payload --text targetusername >"$work/payloads" 2>/dev/null || fail "yagura events --format payload"
grep -qx '{"EventID":4625,"TargetUserName":"alice","Computer":"DC01.example.go.jp"}' "$work/payloads" || fail "yagura events payload: $(cat "$work/payloads")"
"$yagura" events --data "$data" --from 2026-99-01T00:00:00Z >/dev/null 2>&1; [[ $? == 2 ]] || fail "yagura events must refuse a bad time with 2"

# --- an audit against a NIST baseline -------------------------------------------------------------
# An auditor imports SP 800-53 rev. 5's MODERATE resolved catalog and opens an audit of the
# ministry scoped by the MODERATE profile; the ministry's administrator sees nothing of it before
# the report is issued; the OSCAL export names every control in scope.
oscal=$(cd "$(dirname "$0")/../../.." && pwd)/shared/data/oscal/sp800-53-rev5
if [[ -f $oscal/NIST_SP-800-53_rev5_MODERATE-baseline_profile.json ]]; then
  [[ $(post "$work/admin.jar" "$admin_csrf" /api/v1/users "{\"username\":\"auditor\",\"display_name\":\"Auditor\",\"org_id\":\"$centre\",\"roles\":[\"auditor\"],\"password\":\"auditor password 1\"}") == 201 ]] || fail "create auditor: $(cat "$work/body")"
  [[ $(post "$work/admin.jar" "$admin_csrf" /api/v1/users "{\"username\":\"ministry-admin\",\"display_name\":\"Ministry admin\",\"org_id\":\"$ministry\",\"roles\":[\"org_admin\"],\"password\":\"ministry password 1\"}") == 201 ]] || fail "create ministry admin: $(cat "$work/body")"
  auditor_csrf=$(login auditor 'auditor password 1' "$work/auditor.jar")
  ministry_admin_csrf=$(login ministry-admin 'ministry password 1' "$work/ministry-admin.jar")
  [[ $(curl_json -b "$work/auditor.jar" -H "X-CSRF-Token: $auditor_csrf" -H 'Content-Type: application/json' \
    --data-binary @"$oscal/NIST_SP-800-53_rev5_MODERATE-baseline-resolved-profile_catalog.json" \
    "$url/api/v1/standards?source=sp800-53r5-moderate.json") == 201 ]] || fail "import a standard: $(head -c 500 "$work/body")"
  standard=$(json "$work/body" "d['id']")
  [[ $(json "$work/body" "d['controls']") == 287 ]] || fail "the MODERATE catalog holds 287 controls: $(cat "$work/body")"
  /usr/bin/python3 -c 'import json,sys; print(json.dumps({"title": "Annual audit", "auditee_org_id": sys.argv[1], "standard_id": sys.argv[2], "profile": json.load(open(sys.argv[3]))}))' \
    "$ministry" "$standard" "$oscal/NIST_SP-800-53_rev5_MODERATE-baseline_profile.json" >"$work/audit.json"
  [[ $(curl_json -b "$work/auditor.jar" -H "X-CSRF-Token: $auditor_csrf" -H 'Content-Type: application/json' \
    --data-binary @"$work/audit.json" "$url/api/v1/audits") == 201 ]] || fail "open an audit: $(cat "$work/body")"
  audit_id=$(json "$work/body" "d['id']")
  [[ $(json "$work/body" "d['progress']['controls']") == 287 ]] || fail "the MODERATE profile scopes 287 controls: $(cat "$work/body")"
  [[ $(curl_json -b "$work/ministry-admin.jar" "$url/api/v1/audits/$audit_id") == 404 ]] || fail "LEAK: the ministry reads an audit before its report is issued"
  [[ $(curl_json -b "$work/admin.jar" "$url/api/v1/audits/$audit_id") == 404 ]] || fail "LEAK: the duty officer reads an audit they are not on"
  [[ $(post "$work/auditor.jar" "$auditor_csrf" "/api/v1/audits/$audit_id/transitions" '{"status":"fieldwork"}') == 200 ]] || fail "fieldwork: $(cat "$work/body")"
  [[ $(curl_json -b "$work/auditor.jar" -H "X-CSRF-Token: $auditor_csrf" -X PUT -H 'Content-Type: application/json' \
    -d '{"result":"not_satisfied","methods":["test"],"note":"Dormant accounts are not disabled."}' "$url/api/v1/audits/$audit_id/controls/ac-2.3") == 200 ]] || fail "assess ac-2.3: $(cat "$work/body")"
  [[ $(post "$work/auditor.jar" "$auditor_csrf" "/api/v1/audits/$audit_id/findings" '{"control_id":"ac-2.3","title":"Dormant accounts stay enabled","risk":"high"}') == 201 ]] || fail "finding: $(cat "$work/body")"
  [[ $(post "$work/auditor.jar" "$auditor_csrf" "/api/v1/audits/$audit_id/transitions" '{"status":"reporting"}') == 200 ]] || fail "reporting: $(cat "$work/body")"
  [[ $(post "$work/auditor.jar" "$auditor_csrf" "/api/v1/audits/$audit_id/transitions" '{"status":"issued"}') == 409 ]] || fail "an incomplete report must not be issued: $(cat "$work/body")"
  grep -q '286 control(s) in scope are not assessed yet' "$work/body" || fail "the refusal names what is missing: $(cat "$work/body")"
  [[ $(curl_json -b "$work/auditor.jar" "$url/api/v1/audits/$audit_id/oscal/assessment-results") == 200 ]] || fail "OSCAL export"
  [[ $(json "$work/body" "(len(d['assessment-results']['results'][0]['reviewed-controls']['control-selections'][0]['include-controls']), [f['target']['status']['state'] for f in d['assessment-results']['results'][0]['findings']])") == "(287, ['not-satisfied'])" ]] \
    || fail "OSCAL assessment results: $(head -c 600 "$work/body")"
else
  echo "note: ../shared/data/oscal is missing; the audit section is skipped"
fi

# --- the audit log -------------------------------------------------------------------------------
[[ $(curl_json -b "$work/reporter.jar" "$url/api/v1/audit-log") == 403 ]] || fail "a reporter must not read the audit log"
[[ $(curl_json -b "$work/admin.jar" "$url/api/v1/audit-log?limit=200") == 200 ]] || fail "audit log"
[[ $(json "$work/body" "{e['action'] for e in d['items']} >= {'auth.login','incident.create','incident.read','case.open','case.evidence.access'}") == True ]] \
  || fail "audit log lacks login/create/read entries: $(json "$work/body" "sorted({e['action'] for e in d['items']})")"
[[ $(curl_json "$url/metrics") == 200 ]] || fail "metrics"
grep -q '^yagura_http_requests_total{method="POST",status="201"}' "$work/body" || fail "metrics lack request counters"
grep -q '^yagura_ingest_events_total{logsource="product=windows,service=sysmon",org_id="'"$ministry"'",sensor="[^"]*"} 2' "$work/body" || fail "metrics lack the ingest counter"

stop_server
ls "$data/spool/"*.spool >/dev/null 2>&1 || fail "no spool segment was written"

# --- tampering is detected -----------------------------------------------------------------------
"$yagura" admin verify-audit --data "$data" "${db_args[@]}" >"$work/verify" 2>&1 || fail "verify-audit on an intact log: $(cat "$work/verify")"
grep -q "Audit log intact" "$work/verify" || fail "verify-audit message: $(cat "$work/verify")"
sql "UPDATE audit_log SET actor_id = 'someone-else' WHERE seq = 3" >/dev/null
"$yagura" admin verify-audit --data "$data" "${db_args[@]}" >"$work/verify" 2>&1
[[ $? -eq 1 ]] || fail "verify-audit must exit 1 on a tampered log"
grep -q "BROKEN at entry 3" "$work/verify" || fail "verify-audit did not name entry 3: $(cat "$work/verify")"

# --- HTTPS ---------------------------------------------------------------------------------------
if [[ $engine == sqlite ]]; then
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" -days 2 \
    -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1
  start_server --tls-cert "$work/cert.pem" --tls-key "$work/key.pem"
  [[ $url == https://* ]] || fail "TLS server URL is not https: $url"
  [[ $(curl_json --cacert "$work/cert.pem" "$url/healthz") == 200 ]] || fail "healthz over TLS"
  curl -s --cacert "$work/cert.pem" -D "$work/headers" -o /dev/null -H 'Content-Type: application/json' \
    -d '{"username":"chief","password":"correct horse battery staple"}' "$url/api/v1/auth/login"
  grep -qi '^set-cookie: .*; Secure' "$work/headers" || fail "session cookie over HTTPS is not Secure"
  grep -qi '^strict-transport-security' "$work/headers" || fail "HSTS header missing over HTTPS"
  plain=${url/https:/http:}
  [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$plain/healthz") == 200 ]] && fail "plain HTTP answered on the TLS port"
  stop_server
fi

if [[ $failures -gt 0 ]]; then
  echo "$failures failure(s)"; echo "--- server stderr"; cat "$work/serve.err"
  exit 1
fi
echo "serve API ($engine): all checks passed"
