#!/usr/bin/env bash
# The analyst console end to end in a real browser: a fresh `yagura serve` on 127.0.0.1 (any free
# port, a temporary data directory, Yagura's own rules, the console built into BUILD_DIR/web),
# its administrator created by `yagura admin init`, then web/e2e/console.e2e.mjs (Playwright
# driving /usr/bin/chromium headless) plays the scenario against it. The server is stopped with
# SIGTERM afterwards and must exit cleanly.
#
# usage: console_e2e.sh BUILD_DIR [sqlite|postgres]
#   postgres needs YAGURA_TEST_POSTGRES_URL (scripts/with-postgres sets it); each run gets its
#   own schema. YAGURA_SCREENSHOTS=DIR keeps screenshots of the main pages in DIR;
#   YAGURA_CHROMIUM names another browser binary (default /usr/bin/chromium).
# Exit status: the scenario's (0 = pass); 77 (skipped) only when chromium or npm is missing.
set -u
build=$(cd "${1:?usage: console_e2e.sh BUILD_DIR [sqlite|postgres]}" && pwd)
engine=${2:-sqlite}
repo=$(cd "$(dirname "$0")/../.." && pwd)
chromium=${YAGURA_CHROMIUM:-/usr/bin/chromium}

if [[ ! -x $chromium ]]; then
  echo "SKIP: $chromium is not installed (scripts/setup installs it)"
  exit 77
fi
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  echo "SKIP: node/npm is not installed (scripts/setup installs it)"
  exit 77
fi
yagura=$build/yagura
scenario=$repo/web/e2e/console.e2e.mjs
[[ -x $yagura ]] || { echo "FAIL: $yagura is not built"; exit 1; }
[[ -f $build/web/index.html ]] || {
  echo "FAIL: the console is not built in $build/web (configure with -DYAGURA_BUILD_WEB=ON and build the web target)"
  exit 1
}
[[ -f $scenario ]] || { echo "FAIL: $scenario is missing"; exit 1; }
[[ -d $repo/web/node_modules/playwright-core ]] || {
  echo "FAIL: web/node_modules has no playwright-core (run scripts/web-deps or build the web target)"
  exit 1
}

work=$(mktemp -d)
server_pid=
schema=
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null; fi
  if [[ -n $schema ]]; then psql "$YAGURA_TEST_POSTGRES_URL" -qc "DROP SCHEMA $schema CASCADE" >/dev/null 2>&1; fi
  rm -rf "$work"
}
trap cleanup EXIT

data=$work/data
db_args=()
if [[ $engine == postgres ]]; then
  if [[ -z ${YAGURA_TEST_POSTGRES_URL:-} ]]; then
    echo "SKIP: YAGURA_TEST_POSTGRES_URL is not set (run through scripts/with-postgres)"
    exit 0
  fi
  schema=console_e2e_$RANDOM$RANDOM
  psql "$YAGURA_TEST_POSTGRES_URL" -qc "CREATE SCHEMA $schema" || { echo "FAIL: cannot create schema"; schema=; exit 1; }
  sep='?'; [[ $YAGURA_TEST_POSTGRES_URL == *\?* ]] && sep='&'
  db_args=(--database "${YAGURA_TEST_POSTGRES_URL}${sep}options=-csearch_path%3D$schema")
elif [[ $engine != sqlite ]]; then
  echo "usage: console_e2e.sh BUILD_DIR [sqlite|postgres]" >&2
  exit 2
fi

export YAGURA_ADMIN_USER=admin
export YAGURA_ADMIN_PASSWORD="console e2e password $RANDOM$RANDOM"
"$yagura" admin init --data "$data" "${db_args[@]}" >"$work/init" 2>&1 || {
  echo "FAIL: admin init"; cat "$work/init"; exit 1
}

"$yagura" serve --data "$data" "${db_args[@]}" --listen 127.0.0.1:0 --threads 2 \
  --rules "$repo/rules" --web-root "$build/web" >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
url=
for _ in $(seq 300); do
  url=$(sed -n 's/^Yagura is serving .* on \(http:\/\/[^ ]*\)$/\1/p' "$work/serve.out" 2>/dev/null)
  [[ -n $url ]] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -z $url ]] || ! curl -sf -o /dev/null "$url/healthz"; then
  echo "FAIL: the server did not start"; cat "$work/serve.out" "$work/serve.err"; exit 1
fi
grep -q "^Console: $url/" "$work/serve.out" || {
  echo "FAIL: the server does not serve the console"; cat "$work/serve.out"; exit 1
}

export YAGURA_URL=$url
if [[ -n ${YAGURA_SCREENSHOTS:-} ]]; then
  mkdir -p "$YAGURA_SCREENSHOTS"
  YAGURA_SCREENSHOTS=$(cd "$YAGURA_SCREENSHOTS" && pwd)
  export YAGURA_SCREENSHOTS
fi
# The browser's profile, caches and crash reports stay in the temporary directory.
mkdir -p "$work/home"
echo "console_e2e ($engine): $url"
(cd "$repo/web" && HOME=$work/home XDG_CONFIG_HOME=$work/home/.config XDG_CACHE_HOME=$work/home/.cache \
  timeout 600 node "$scenario")
status=$?
# 77 means "skipped" to ctest; the scenario itself never skips.
[[ $status -eq 77 ]] && status=1

kill -TERM "$server_pid"
wait "$server_pid"
server_status=$?
server_pid=
if [[ $server_status -ne 0 ]]; then
  echo "FAIL: yagura serve exited with $server_status after SIGTERM"
  [[ $status -eq 0 ]] && status=1
fi
if [[ $status -ne 0 ]]; then
  echo "--- yagura serve (stderr, last 50 lines)"
  tail -n 50 "$work/serve.err"
  echo "FAIL: console scenario ($engine) exited with $status"
else
  echo "console_e2e ($engine): passed"
fi
exit "$status"
