#!/usr/bin/env bash
# `yagura intel import|list|stats` and `scan --intel` end to end: real feeds from ../shared
# (STIX examples, the invalid bundle, the MISP feed sample, the ATT&CK bundle), a list, and a
# broken re-import that must leave the stored feed in place.
# usage: intel_cli.sh YAGURA_BINARY SOURCE_DIR
set -u
yagura=$1
src=$2
shared=$src/../shared/data
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
if [[ ! -d $shared/stix ]]; then
  echo "SKIP: shared data not found at $shared"
  exit 0
fi
store=$work/store
intel() { "$yagura" intel --store "$store" "$@"; }
json() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

# A list, imported and counted.
printf '192.0.2.10\nevil.example\nhxxp://drop[.]example/x\nnot an indicator\n' >"$work/block.txt"
intel import "$work/block.txt" >"$work/out" 2>"$work/err"
[[ $? -eq 1 ]] || fail "list with a bad line: exit status should be 1"
grep -q "3 indicators imported, 1 skipped" "$work/out" || { fail "list import summary"; cat "$work/out"; }
grep -q "block.txt:4" "$work/err" || fail "the bad line is not named by file and line"

# The invalid bundle: the bad indicator is named, the rest imported.
intel import "$shared/stix/examples/invalid-indicator-bundle.json" --json >"$work/out" 2>"$work/err"
grep -q "indicator--" "$work/err" || fail "invalid bundle: no message naming the indicator id"
[[ $(json "$work/out" "d[0]['stored']") == True ]] || fail "invalid bundle: valid part not stored"

# The MISP feed sample (a directory with manifest.json) and the ATT&CK bundle (no indicators).
intel import "$shared/misp/feed-sample" --name misp-sample >"$work/out" 2>&1 || fail "MISP feed import failed: $(cat "$work/out")"
grep -q "feed 'misp-sample': 92 indicators imported" "$work/out" || { fail "MISP counts"; cat "$work/out"; }
intel import "$shared/attack/enterprise-attack.json" --name attack --json >"$work/out" 2>"$work/err"
[[ $(json "$work/out" "d[0]['indicators']") == 0 ]] || fail "ATT&CK should import as zero indicators"
[[ -s $work/err ]] && { fail "ATT&CK import printed diagnostics"; head -3 "$work/err"; }

# stats and list
intel stats --json >"$work/stats" || fail "stats failed"
[[ $(json "$work/stats" "d['feeds']") == 4 ]] || fail "stats: expected 4 feeds"
[[ $(json "$work/stats" "d['by_feed']['block.txt']") == 3 ]] || fail "stats: block.txt should have 3"
[[ $(json "$work/stats" "d['by_feed']['misp-sample']") -gt 0 ]] || fail "stats: MISP feed missing"
intel list --feed block.txt >"$work/list" || fail "list failed"
[[ $(wc -l <"$work/list") -eq 3 ]] || { fail "list: expected 3 lines"; cat "$work/list"; }
grep -q "http://drop.example/x" "$work/list" || fail "list: the refanged URL is missing"
intel list --type ipv4 --json --limit 1 >"$work/list" || fail "list --json failed"
[[ $(wc -l <"$work/list") -eq 1 ]] || fail "list --limit 1"

# A truncated new version of a stored feed is refused, and the stored one stays.
cp "$shared/stix/examples/oasis-cti-stix2-json-schemas/indicator-for-c2-ip-address.json" "$work/c2.json"
intel import "$work/c2.json" >/dev/null 2>&1 || fail "C2 bundle import failed"
before=$(intel stats --json | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['by_feed'].get('c2.json', 0))")
head -c 300 "$shared/stix/examples/oasis-cti-stix2-json-schemas/indicator-for-c2-ip-address.json" >"$work/c2.json"
intel import "$work/c2.json" >"$work/out" 2>"$work/err"
[[ $? -eq 1 ]] || fail "truncated re-import: exit status should be 1"
grep -q "stored version" "$work/err" || { fail "truncated re-import: no message"; cat "$work/err"; }
after=$(intel stats --json | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['by_feed'].get('c2.json', 0))")
[[ $before -gt 0 && $before == "$after" ]] || fail "truncated re-import replaced the stored feed ($before -> $after)"

# scan --intel with the store: an event that holds a stored indicator alerts, with its feed.
echo '{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":3,"DestinationIp":"192.0.2.10"}' >"$work/ev.jsonl"
"$yagura" scan --quiet --no-cache --rules "$src/rules" --intel "$store" "$work/ev.jsonl" >"$work/alerts" 2>"$work/err"
grep -q '"indicator":{"id":"block.txt:1","feed":"block.txt"' "$work/alerts" || { fail "scan --intel STORE: no alert"; cat "$work/alerts" "$work/err"; }
grep -q '"matched_values":\[{"field":"DestinationIp","value":"192.0.2.10"}\]' "$work/alerts" || fail "scan --intel: matched value missing"
"$yagura" scan --quiet --no-cache --rules "$src/rules" --intel "$work/missing.json" "$work/ev.jsonl" >/dev/null 2>"$work/err"
[[ $? -eq 1 ]] || fail "scan with an unreadable feed: exit status should be 1"
grep -q "missing.json" "$work/err" || fail "scan with an unreadable feed: not named"
"$yagura" scan --quiet --no-cache --rules "$src/rules" --output-format csv --intel "$store" "$work/ev.jsonl" >"$work/csv" 2>/dev/null
grep -q 'block.txt:1,' "$work/csv" || fail "CSV: indicator alert missing"

# Usage errors
intel import "$work/does-not-exist" >/dev/null 2>&1
[[ $? -eq 2 ]] || fail "import of a missing path: exit status should be 2"
"$yagura" intel --store "$work/empty" stats >/dev/null 2>&1
[[ $? -eq 1 ]] || fail "stats without a store: exit status should be 1"

[[ $failures -eq 0 ]] && echo "intel_cli: ok"
exit $((failures > 0))
