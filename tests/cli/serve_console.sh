#!/usr/bin/env bash
# `yagura serve` and the console's static files: where the console comes from (the web/
# directory next to the binary by default, `web_root` in the file, YAGURA_WEB_ROOT, --web-root,
# "none"), the start-up banner, the SPA fallback next to the API's JSON 404s, caching and the
# security headers, over real HTTP on 127.0.0.1.
# usage: serve_console.sh YAGURA_BINARY SOURCE_DIR
set -u
yagura=$1
work=$(mktemp -d)
pid=
trap '[[ -n $pid ]] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

data=$work/data
YAGURA_ADMIN_PASSWORD='a long enough password' "$yagura" admin init --data "$data" >/dev/null 2>&1 || fail "admin init"

# A copy of the binary, so that "the web/ directory next to it" is under our control.
mkdir -p "$work/bin"
ln "$yagura" "$work/bin/yagura" 2>/dev/null || cp "$yagura" "$work/bin/yagura"
make_console() {  # make_console DIR MARKER
  mkdir -p "$1/assets"
  printf '<!doctype html><title>%s</title><script type="module" src="/assets/app-1a2b3c.js"></script>' "$2" >"$1/index.html"
  printf 'console.log("%s")' "$2" >"$1/assets/app-1a2b3c.js"
}

start() {  # start BINARY ARGS... ; sets url and pid
  rm -f "$work/out" "$work/err"
  "$@" >"$work/out" 2>"$work/err" &
  pid=$!
  url=
  for _ in $(seq 100); do
    url=$(sed -n 's/^Yagura is serving .* on \(http:\/\/[^ ]*\)$/\1/p' "$work/out" 2>/dev/null)
    [[ -n $url ]] && grep -q '^Console: ' "$work/out" && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  fail "serve did not start: $(cat "$work/out" "$work/err")"
  return 1
}
stop() {
  [[ -n $pid ]] || return
  kill -TERM "$pid"; wait "$pid"; local status=$?; pid=
  [[ $status -eq 0 ]] || fail "serve exited with $status after SIGTERM"
}
fetch() {  # fetch PATH [curl args...] -> status; headers in $work/h, body in $work/b
  local path=$1; shift
  rm -f "$work/h" "$work/b"
  curl -s --path-as-is -D "$work/h" -o "$work/b" -w '%{http_code}' "$@" "$url$path"
}
header() { sed -n "s/^$1: \(.*\)\r$/\1/Ip" "$work/h" | head -n1; }

csp="default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
check_security_headers() {  # check_security_headers WHAT
  [[ $(header Content-Security-Policy) == "$csp" ]] || fail "$1: Content-Security-Policy is '$(header Content-Security-Policy)'"
  [[ $(header X-Content-Type-Options) == nosniff ]] || fail "$1: X-Content-Type-Options"
  [[ $(header X-Frame-Options) == DENY ]] || fail "$1: X-Frame-Options"
  [[ $(header Referrer-Policy) == no-referrer ]] || fail "$1: Referrer-Policy"
  [[ $(header Cross-Origin-Opener-Policy) == same-origin ]] || fail "$1: Cross-Origin-Opener-Policy"
}

# --- no console next to the binary: API only ---------------------------------------------------
start "$work/bin/yagura" serve --data "$data" --listen 127.0.0.1:0 --no-detection
grep -qx 'Console: not built (API only)' "$work/out" || fail "banner without a console: $(cat "$work/out")"
[[ $(fetch /) == 404 ]] || fail "/ without a console must be 404"
grep -q '"not_found"' "$work/b" || fail "/ without a console: not the JSON 404"
check_security_headers "API-only 404"
[[ $(fetch /healthz) == 200 ]] || fail "healthz"
check_security_headers "healthz"
[[ $(header Cache-Control) == no-store ]] || fail "healthz Cache-Control is '$(header Cache-Control)'"
stop

# --- the default: <dir of yagura>/web --------------------------------------------------------------
make_console "$work/bin/web" built-next-to-binary
start "$work/bin/yagura" serve --data "$data" --listen 127.0.0.1:0 --no-detection
grep -qx "Console: $url/ (from $work/bin/web)" "$work/out" || fail "banner with the default console: $(cat "$work/out")"
[[ $(fetch /) == 200 ]] || fail "GET / with the default console"
grep -q built-next-to-binary "$work/b" || fail "/ is not the default console's index.html"
[[ $(header Content-Type) == "text/html; charset=utf-8" ]] || fail "index Content-Type '$(header Content-Type)'"
[[ $(header Cache-Control) == no-cache ]] || fail "index Cache-Control '$(header Cache-Control)'"
check_security_headers "index.html"
etag=$(header ETag)
[[ -n $etag ]] || fail "index.html has no ETag"
[[ $(fetch /incidents/0193f2c4-7a1e-7b3c-9d2e-1f0a2b3c4d5e -H "If-None-Match: $etag") == 304 ]] || fail "client route with the index's ETag must be 304"
[[ ! -s $work/b ]] || fail "304 with a body: $(cat "$work/b")"
[[ $(fetch /incidents/0193f2c4-7a1e-7b3c-9d2e-1f0a2b3c4d5e) == 200 ]] || fail "client route"
grep -q built-next-to-binary "$work/b" || fail "client route is not index.html"
[[ $(fetch /assets/app-1a2b3c.js) == 200 ]] || fail "asset"
[[ $(header Cache-Control) == "public, max-age=31536000, immutable" ]] || fail "asset Cache-Control '$(header Cache-Control)'"
[[ $(header Content-Type) == "text/javascript; charset=utf-8" ]] || fail "asset Content-Type '$(header Content-Type)'"
check_security_headers "asset"
[[ $(fetch /assets/app-000000.js) == 404 ]] || fail "missing asset must be 404"
[[ $(fetch /api/v1/no-such-thing) == 404 ]] || fail "unknown API path must stay 404"
grep -q '"not_found"' "$work/b" || fail "unknown API path: not the JSON 404"
[[ $(header Cache-Control) == no-store ]] || fail "API 404 Cache-Control '$(header Cache-Control)'"
check_security_headers "API 404"
[[ $(fetch /taxii2/nothing) == 404 ]] || fail "unknown TAXII path must stay 404"
check_security_headers "TAXII 404"
[[ $(fetch /api/v1/incidents) == 401 ]] || fail "API 401"
check_security_headers "API 401"
status=$(fetch /%2e%2e/%2e%2e/etc/passwd)
[[ $status == 400 || $status == 404 ]] || fail "encoded traversal answered $status"
grep -q 'root:' "$work/b" && fail "LEAK: traversal served /etc/passwd"
check_security_headers "traversal"
stop

# --- web_root in the file, YAGURA_WEB_ROOT, --web-root: each overrides the one before --------------
make_console "$work/from-file" from-the-file
make_console "$work/from-env" from-the-environment
make_console "$work/from-flag" from-the-flag
printf 'listen: 127.0.0.1:0\nweb_root: %s\n' "$work/from-file" >"$work/yagura.yml"
start "$work/bin/yagura" serve --config "$work/yagura.yml" --data "$data" --no-detection
fetch / >/dev/null; grep -q from-the-file "$work/b" || fail "web_root from the file not used"
stop
YAGURA_WEB_ROOT=$work/from-env start "$work/bin/yagura" serve --config "$work/yagura.yml" --data "$data" --no-detection
fetch / >/dev/null; grep -q from-the-environment "$work/b" || fail "YAGURA_WEB_ROOT does not override the file"
stop
YAGURA_WEB_ROOT=$work/from-env start "$work/bin/yagura" serve --config "$work/yagura.yml" --data "$data" --no-detection --web-root "$work/from-flag"
fetch / >/dev/null; grep -q from-the-flag "$work/b" || fail "--web-root does not override the environment"
stop

# --- none: API only even with a built console ----------------------------------------------------
start "$work/bin/yagura" serve --data "$data" --listen 127.0.0.1:0 --no-detection --web-root none
grep -qx 'Console: off (API only)' "$work/out" || fail "banner with web_root none: $(cat "$work/out")"
[[ $(fetch /) == 404 ]] || fail "web_root none still serves the console"
stop

# --- a web_root that is not a built console is an error ------------------------------------------
"$work/bin/yagura" serve --data "$data" --listen 127.0.0.1:0 --no-detection --web-root "$work/missing" >"$work/out" 2>&1
[[ $? -eq 2 ]] || fail "a missing --web-root must be a usage error"
grep -q "$work/missing" "$work/out" || fail "the missing web root is not named: $(cat "$work/out")"
mkdir -p "$work/empty"
"$work/bin/yagura" serve --data "$data" --listen 127.0.0.1:0 --no-detection --web-root "$work/empty" >"$work/out" 2>&1
[[ $? -eq 2 ]] || fail "a --web-root without index.html must be a usage error"
grep -q "no index.html" "$work/out" || fail "the missing index.html is not explained: $(cat "$work/out")"

[[ $failures -eq 0 ]] && echo "serve_console: all checks passed"
exit $((failures > 0))
