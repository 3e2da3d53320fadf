#!/usr/bin/env bash
# `yagura serve` / `yagura admin` configuration: file, environment and flags in that order of
# precedence, and clear errors for a misspelt key, a bad value, a missing data directory.
# usage: serve_cli.sh YAGURA_BINARY SOURCE_DIR
set -u
yagura=$1
work=$(mktemp -d)
pid=
trap '[[ -n $pid ]] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

data=$work/data
YAGURA_ADMIN_PASSWORD='a long enough password' "$yagura" admin init --data "$data" >/dev/null 2>&1 || fail "admin init"

printf 'listen: 127.0.0.1:0\nthreads: 2\nsesion_ttl: 8h\n' >"$data/yagura.yml"
"$yagura" serve --data "$data" >"$work/out" 2>&1
[[ $? -eq 2 ]] || fail "an unknown configuration key must be a usage error"
grep -q 'unknown key "sesion_ttl"' "$work/out" || fail "the misspelt key is not named: $(cat "$work/out")"

printf 'listen: 127.0.0.1:0\nthreads: many\n' >"$data/yagura.yml"
"$yagura" serve --data "$data" >"$work/out" 2>&1
grep -q 'threads must be an integer' "$work/out" || fail "a bad value is not explained: $(cat "$work/out")"

printf 'listen: 127.0.0.1:1\nsession_idle: 10m\n' >"$data/yagura.yml"
# The environment overrides the file, the flag overrides the environment.
YAGURA_LISTEN=127.0.0.1:2 "$yagura" serve --data "$data" --listen 127.0.0.1:0 >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 100); do grep -q "Yagura is serving" "$work/out" && break; sleep 0.1; done
grep -q "on http://127.0.0.1:" "$work/out" || fail "serve did not start: $(cat "$work/out" "$work/err")"
grep -q "on http://127.0.0.1:[12]$" "$work/out" && fail "the --listen flag did not win"
kill -TERM $pid; wait $pid; status=$?; pid=
[[ $status -eq 0 ]] || fail "SIGTERM: exit status $status"

printf 'listen: 127.0.0.1:0\ndetection_stall: a while\n' >"$data/yagura.yml"
"$yagura" serve --data "$data" >"$work/out" 2>&1
grep -q 'detection_stall must be a duration' "$work/out" || fail "a bad detection_stall is not explained: $(cat "$work/out")"
printf 'listen: 127.0.0.1:1\nsession_idle: 10m\n' >"$data/yagura.yml"

YAGURA_SESSION_IDLE=soon "$yagura" serve --data "$data" >"$work/out" 2>&1
grep -q "YAGURA_SESSION_IDLE: session_idle must be a duration" "$work/out" || fail "a bad environment value is not named: $(cat "$work/out")"

"$yagura" serve --data "$work/missing" >"$work/out" 2>&1
[[ $? -ne 0 ]] || fail "serve on a missing data directory must fail"
grep -q "yagura admin init" "$work/out" || fail "the missing data directory message does not say what to do"

"$yagura" admin verify-audit --data "$data" --json >"$work/out" 2>&1 || fail "verify-audit --json"
grep -q '"intact":true' "$work/out" || fail "verify-audit --json: $(cat "$work/out")"

# Live monitoring: mistakes in the sources are named, and nothing starts half-configured.
printf 'listen: 127.0.0.1:0\nsyslog_senders:\n  - match: 10.0.0.0/8\n    org: Nowhere Ministry\n    logsource: product=linux\n' >"$data/yagura.yml"
"$yagura" serve --data "$data" --syslog-tcp 127.0.0.1:0 >"$work/out" 2>&1
[[ $? -ne 0 ]] || fail "an unknown organisation in syslog_senders must stop serve"
grep -q 'no organisation with the id or name "Nowhere Ministry"' "$work/out" || fail "the unknown organisation is not named: $(cat "$work/out")"
printf 'listen: 127.0.0.1:0\nsyslog_senders:\n  - match: 10.0.0.0/8\n    organisation: x\n' >"$data/yagura.yml"
"$yagura" serve --data "$data" >"$work/out" 2>&1
[[ $? -eq 2 ]] || fail "an unknown key in a syslog_senders entry must be a usage error"
grep -q 'unknown key "organisation" in syslog_senders' "$work/out" || fail "the bad sender key is not named: $(cat "$work/out")"
printf 'listen: 127.0.0.1:0\n' >"$data/yagura.yml"
"$yagura" serve --data "$data" --syslog-udp 127.0.0.1:0 >"$work/out" 2>&1
[[ $? -ne 0 ]] || fail "a syslog listener without senders must stop serve"
grep -q 'no syslog_senders' "$work/out" || fail "listeners without senders are not explained: $(cat "$work/out")"
"$yagura" serve --data "$data" --allowed-lateness soon >"$work/out" 2>&1
[[ $? -eq 2 ]] || fail "a bad --allowed-lateness must be a usage error"
grep -q 'allowed_lateness must be a duration' "$work/out" || fail "the bad lateness is not explained: $(cat "$work/out")"
"$yagura" serve --data "$data" --rules "$work/no-such-rules" >"$work/out" 2>&1
[[ $? -ne 0 ]] || fail "serve with rules that do not load must stop"
grep -q 'no rule' "$work/out" || fail "missing rules are not explained: $(cat "$work/out")"
# Rule tuning: the files are read when detection starts, and a bad one stops serve, named.
printf 'x,severe\n' >"$work/bad_levels.txt"
printf 'listen: 127.0.0.1:0\nexclude_rules: [no-such-rule]\nlevel_overrides:\n  - %s\n' "$work/bad_levels.txt" >"$data/yagura.yml"
"$yagura" serve --data "$data" >"$work/out" 2>&1
[[ $? -ne 0 ]] || fail "serve with a bad level override file must stop"
grep -q "bad_levels.txt:1: 'severe' is no level" "$work/out" || fail "the bad level line is not named: $(cat "$work/out")"
printf 'listen: 127.0.0.1:0\nexclude_rule_lists: %s/no-such-list.txt\n' "$work" >"$data/yagura.yml"
"$yagura" serve --data "$data" >"$work/out" 2>&1
[[ $? -ne 0 ]] || fail "serve with a missing rule list must stop"
grep -q "no-such-list.txt: cannot be read" "$work/out" || fail "the missing rule list is not named: $(cat "$work/out")"
printf 'listen: 127.0.0.1:0\n' >"$data/yagura.yml"

[[ $failures -eq 0 ]] || { echo "$failures failure(s)"; exit 1; }
echo "serve configuration: all checks passed"
