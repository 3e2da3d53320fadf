#!/usr/bin/env bash
# The service under load: with INCIDENTS (100,000) reports in the store, `wrk` lists one
# organisation's first page of its incidents (GET /api/v1/incidents?limit=50&owner_org_id=ORG,
# by a reporter of that organisation, authenticated with a
# read-only API token) over loopback, and prints requests/s and the latency percentiles.
# Runs on the embedded SQLite store, then on a throwaway PostgreSQL cluster.
#
# usage: bench/serve_incidents.sh [BUILD_DIR]
#   env: INCIDENTS=100000 DURATION=20s CONNECTIONS=32 WRK_THREADS=1 SERVER_THREADS=2 ENGINES="sqlite postgres"
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
incidents=${INCIDENTS:-100000}
duration=${DURATION:-20s}
connections=${CONNECTIONS:-32}
wrk_threads=${WRK_THREADS:-1}
server_threads=${SERVER_THREADS:-2}
engines=${ENGINES:-sqlite postgres}
work=$(mktemp -d)
server_pid=
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

run_one() {  # run_one ENGINE DATABASE_TARGET
  local engine=$1 target=$2
  local started seeded
  started=$(date +%s.%N)
  "$build/bench/yagura_seed_service" --database "$target" --incidents "$incidents" >"$work/seed" 2>"$work/seed.err" \
    || { cat "$work/seed.err"; exit 1; }
  seeded=$(date +%s.%N)
  local token org
  token=$(sed -n 's/^token //p' "$work/seed")
  org=$(sed -n 's/^org //p' "$work/seed")
  rm -f "$work/serve.out" "$work/serve.err"  # never read a previous run's "serving" line
  "$build/yagura" serve --data "$work/data-$engine" --database "$target" --listen 127.0.0.1:0 \
    --threads "$server_threads" >"$work/serve.out" 2>"$work/serve.err" &
  server_pid=$!
  local url=
  for _ in $(seq 100); do
    url=$(sed -n 's/^Yagura is serving .* on \(http:\/\/[^ ]*\)$/\1/p' "$work/serve.out" 2>/dev/null)
    [[ -n $url ]] && break
    sleep 0.1
  done
  [[ -n $url ]] || { cat "$work/serve.err"; exit 1; }
  local page="$url/api/v1/incidents?limit=50&owner_org_id=$org"
  local items
  items=$(curl -s -H "Authorization: Bearer $token" "$page" | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))')
  # Warm up, then measure.
  wrk -t"$wrk_threads" -c"$connections" -d3s -H "Authorization: Bearer $token" "$page" >/dev/null
  wrk -t"$wrk_threads" -c"$connections" -d"$duration" --latency -H "Authorization: Bearer $token" "$page" >"$work/wrk"
  kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=
  local rps p50 p99 errors
  rps=$(awk '/^Requests\/sec/ {print $2}' "$work/wrk")
  p50=$(awk '$1 == "50%" {print $2}' "$work/wrk")
  p99=$(awk '$1 == "99%" {print $2}' "$work/wrk")
  errors=$(grep -E 'Non-2xx|Socket errors' "$work/wrk" || true)
  printf '%-9s incidents=%s seed=%.1fs page_items=%s requests/s=%s p50=%s p99=%s %s\n' \
    "$engine" "$incidents" "$(echo "$seeded - $started" | bc)" "$items" "$rps" "$p50" "$p99" "${errors:-errors=0}"
  [[ -z $errors ]] || { echo "errors during the run:"; cat "$work/wrk"; }
}

echo "GET /api/v1/incidents?limit=50&owner_org_id=ORG by its reporter; wrk -t$wrk_threads -c$connections -d$duration; serve --threads $server_threads; $(nproc) cores"
for engine in $engines; do
  case $engine in
    sqlite) mkdir -p "$work/data-sqlite"; run_one sqlite "$work/data-sqlite/yagura.db" ;;
    postgres)
      if [[ -n ${YAGURA_TEST_POSTGRES_URL:-} ]]; then
        run_one postgres "$YAGURA_TEST_POSTGRES_URL"
      else
        ENGINES=postgres "$here/scripts/with-postgres" "$0" "$build"
      fi ;;
  esac
done
