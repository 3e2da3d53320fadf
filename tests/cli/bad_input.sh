#!/usr/bin/env bash
# Bad input end to end: each kind is reported with its location, the rest is still scanned,
# the summary counts it, and the exit status is 1.
# usage: bad_input.sh YAGURA_BINARY SOURCE_DIR
set -u
yagura=$1
src=$2
shared=$src/../shared/data
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

mkdir -p "$work/rules"
cat >"$work/rules/whoami.yml" <<'YML'
title: Whoami
id: 11111111-1111-4111-8111-111111111111
author: Test Author
level: high
logsource: {product: windows, category: process_creation}
detection:
  sel: {Image|endswith: '\whoami.exe'}
  condition: sel
YML
good='{"Event":{"System":{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"ws1"},"EventData":{"Image":"C:\\Windows\\System32\\whoami.exe"}}}'

# scan_case NAME FILE WHERE: scans FILE next to a good file; expects exit 1, a message naming
# WHERE, the good file's alert, and a skipped or unreadable count in the summary.
scan_case() {
  local name=$1 file=$2 where=$3
  echo "$good" >"$work/good.jsonl"
  "$yagura" scan --no-progress --no-cache --rules "$work/rules" "$file" "$work/good.jsonl" \
    >"$work/out" 2>"$work/err"
  local status=$?
  [[ $status -eq 1 ]] || fail "$name: exit $status, expected 1"
  grep -qF -- "$where" "$work/err" || { fail "$name: no message naming '$where'"; head -5 "$work/err"; }
  grep -qF '"title":"Whoami"' "$work/out" || fail "$name: the good input was not scanned"
  grep -qE '[1-9][0-9]* skipped|[1-9][0-9]* unreadable' "$work/err" || fail "$name: summary does not count it"
}

# An invalid JSON line among valid ones: the valid lines still alert.
{ echo "$good"; echo '{"Event": {"System": '; echo "$good"; } >"$work/invalid.jsonl"
scan_case "invalid JSON line" "$work/invalid.jsonl" "invalid.jsonl:2"
n=$(grep -c '"file":"'"$work/invalid.jsonl" "$work/out")
[[ $n -eq 2 ]] || fail "invalid JSON line: expected 2 alerts from the file's valid lines, got $n"

# Invalid UTF-8 inside a JSON string.
printf '{"Event":{"System":{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational"},"EventData":{"Image":"C:\\\\bad\xff\xfe.exe"}}}\n' >"$work/utf8.jsonl"
"$yagura" scan --quiet --no-cache --rules "$work/rules" "$work/utf8.jsonl" >"$work/out" 2>"$work/err"
status=$?
[[ $status -le 1 ]] || fail "invalid UTF-8: exit $status (crash?)"

# Binary garbage.
head -c 65536 /dev/urandom >"$work/garbage.bin"
scan_case "binary garbage" "$work/garbage.bin" "garbage.bin"

# A 100 MB line.
/usr/bin/python3 -c "import sys; sys.stdout.write('{\"x\": \"' + 'A' * (100 * 1024 * 1024) + '\"}\n')" >"$work/huge.jsonl"
echo "$good" >>"$work/huge.jsonl"
scan_case "100 MB line" "$work/huge.jsonl" "huge.jsonl:1"
grep -qF '"file":"'"$work/huge.jsonl" "$work/out" || fail "100 MB line: the line after it was not scanned"
rm -f "$work/huge.jsonl"

# An unreadable file (a directory entry that cannot be opened: a dangling symlink).
ln -s "$work/does-not-exist" "$work/dangling.jsonl"
scan_case "unreadable file" "$work/dangling.jsonl" "dangling.jsonl"

# A truncated and a corrupted EVTX file.
evtx="$shared/logs/evtx/Credential Access/ACL_ForcePwd_SPNAdd_User_Computer_Accounts.evtx"
if [[ -f $evtx ]]; then
  head -c 300000 "$evtx" >"$work/truncated.evtx"
  scan_case "truncated EVTX" "$work/truncated.evtx" "truncated.evtx"
  cp "$evtx" "$work/corrupt.evtx"
  chmod u+w "$work/corrupt.evtx"
  printf '\xde\xad\xbe\xef%.0s' $(seq 1 64) | dd of="$work/corrupt.evtx" bs=1 seek=200000 conv=notrunc status=none
  scan_case "corrupted EVTX" "$work/corrupt.evtx" "corrupt.evtx"
  # The summary says which records Yagura rendered and which libevtx did (damaged files).
  "$yagura" scan --quiet --no-cache --rules "$work/rules" --summary-json "$work/evtx.json" \
    "$evtx" "$work/truncated.evtx" -o /dev/null 2>/dev/null
  /usr/bin/python3 - "$work/evtx.json" <<'PY' || fail "EVTX summary: native and libevtx counts"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["evtx_native_records"] > 0 and s["evtx_libevtx_records"] > 0, s
assert s["evtx_native_records"] + s["evtx_libevtx_records"] == s["records_read"], s
PY
else
  echo "skip: EVTX samples not found under $shared/logs/evtx"
fi

# A malformed rule next to a good one: the good one still runs.
printf 'title: [unclosed\n' >"$work/rules/broken.yml"
echo "$good" >"$work/good.jsonl"
"$yagura" scan --no-progress --no-cache --rules "$work/rules" "$work/good.jsonl" >"$work/out" 2>"$work/err"
status=$?
[[ $status -eq 1 ]] || fail "malformed rule: exit $status, expected 1"
grep -qF "broken.yml" "$work/err" || fail "malformed rule: not named"
grep -qF '"title":"Whoami"' "$work/out" || fail "malformed rule: the good rule did not run"
grep -qF "1 failed" "$work/err" || fail "malformed rule: summary does not count it"

if [[ $failures -gt 0 ]]; then echo "$failures failures"; exit 1; fi
echo "bad input: all checks passed"
