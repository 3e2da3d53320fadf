#!/usr/bin/env bash
# The command-line contract: subcommands, --help, --version, exit statuses, output shapes.
# usage: cli_contract.sh YAGURA_BINARY SOURCE_DIR
set -u
yagura=$1
src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
check() {  # check DESCRIPTION EXPECTED_STATUS COMMAND...
  local what=$1 want=$2; shift 2
  "$@" >"$work/out" 2>"$work/err"
  local got=$?
  if [[ $got -ne $want ]]; then
    echo "FAIL: $what: exit $got, expected $want"; cat "$work/err"; failures=$((failures + 1))
  fi
}
contains() {  # contains DESCRIPTION FILE TEXT
  if ! grep -qF -- "$3" "$2"; then
    echo "FAIL: $1: '$3' not in output:"; head -20 "$2"; failures=$((failures + 1))
  fi
}

check "--version" 0 "$yagura" --version
contains "--version prints the version" "$work/out" "yagura "
check "--help" 0 "$yagura" --help
contains "--help lists scan" "$work/out" "scan"
check "scan --help" 0 "$yagura" scan --help
contains "scan --help lists --rules" "$work/out" "--rules"
check "rules check --help" 0 "$yagura" rules check --help
check "no subcommand is a usage error" 2 "$yagura"
check "unknown option is a usage error" 2 "$yagura" scan --no-such-option x
check "scan without paths is a usage error" 2 "$yagura" scan
check "bad --format is a usage error" 2 "$yagura" scan --format xmlish "$src/samples"
contains "bad --format names the formats" "$work/err" "expected auto, json, evtx, xml, syslog, web or text"
for name in web webaccess access; do
  check "--format $name reads web access logs" 0 "$yagura" stats --format "$name" "$src/samples/web"
done
# Windows events exported as XML (Event Viewer's UTF-16 "Save as XML"): detected and forced.
xml_case="$src/tests/cases/format_windows_xml"
check "scan of Windows events exported as XML" 0 "$yagura" scan --quiet --no-cache --rules "$xml_case/rules" -o "$work/xml-alerts.jsonl" "$xml_case/input.xml"
[[ $(wc -l <"$work/xml-alerts.jsonl") == 4 ]] || { echo "FAIL: the XML export gave other than 4 alerts"; failures=$((failures + 1)); }
check "scan --format xml" 0 "$yagura" scan --quiet --no-cache --format xml --rules "$xml_case/rules" -o /dev/null "$xml_case/input.xml"
check "dump of an XML export" 0 "$yagura" dump "$xml_case/input.xml"
contains "dump writes an XML export's events as evtx_dump does" "$work/out" '"TargetUserName":"管理者"'
contains "dump decodes XML entities" "$work/out" '"CommandLine":"whoami /all & echo <done>"'

check "bad --logsource is a usage error" 2 "$yagura" scan --logsource productlinux "$src/samples"

# A rule set with one good and one broken rule.
mkdir -p "$work/rules"
cat >"$work/rules/good.yml" <<'YML'
title: Whoami
id: 11111111-1111-4111-8111-111111111111
author: Test Author
status: test
level: high
tags: [attack.t1033]
references: [https://example.org/whoami]
logsource: {product: windows, category: process_creation}
detection:
  sel: {Image|endswith: '\whoami.exe'}
  condition: sel
YML
cat >"$work/rules/bad.yml" <<'YML'
title: Broken
logsource: {product: windows}
detection:
  sel: {Image|nosuchmodifier: x}
  condition: sel
YML
check "rules check with a broken rule exits 1" 1 "$yagura" rules check "$work/rules" --json
contains "rules check --json counts loaded" "$work/out" '"loaded":1'
contains "rules check --json counts failed" "$work/out" '"failed":1'
contains "rules check --json names the file" "$work/out" 'bad.yml'
contains "rules check --json gives the line" "$work/out" '"line":'
contains "rules check --json gives a reason" "$work/out" 'nosuchmodifier'

# rules test: a repository in SigmaHQ's layout, rules naming their regression data.
mkdir -p "$work/repo/rules/windows" "$work/repo/regression_data/whoami"
cat >"$work/repo/rules/windows/whoami.yml" <<'YML'
title: Whoami
id: 11111111-1111-4111-8111-111111111111
logsource: {product: windows, category: process_creation}
detection:
  sel: {CommandLine|contains: 'whoami /all'}
  condition: sel
regression_tests_path: regression_data/whoami/info.yml
YML
cat >"$work/repo/rules/windows/untested.yml" <<'YML'
title: Untested
id: 22222222-2222-4222-8222-222222222222
logsource: {product: windows, category: process_creation}
detection:
  sel: {CommandLine|contains: 'net user'}
  condition: sel
YML
cat >"$work/repo/regression_data/whoami/info.yml" <<'YML'
rule_metadata:
    - id: 11111111-1111-4111-8111-111111111111
      title: Whoami
regression_tests_info:
    - name: Positive Detection Test
      type: json
      match_count: 1
      path: regression_data/whoami/sample.json
YML
printf '%s\n' '{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational"},"EventData":{"CommandLine":"whoami /all"}}}' \
  >"$work/repo/regression_data/whoami/sample.json"
check "rules test --help" 0 "$yagura" rules test --help
check "rules test passes" 0 "$yagura" rules test --no-cache "$work/repo/rules"
contains "rules test summary" "$work/out" "1 rules with regression tests: 1 passed, 0 failed; 1 without"
check "rules test --verbose lists passes" 0 "$yagura" rules test --no-cache -v "$work/repo/rules"
contains "rules test --verbose names the rule" "$work/out" "PASS  $work/repo/rules/windows/whoami.yml  Whoami"
check "rules test --json" 0 "$yagura" rules test --no-cache --json "$work/repo/rules"
for key in '"tested":1' '"passed":1' '"failed":0' '"without_tests":1' '"rule_id":"11111111-1111-4111-8111-111111111111"' \
           '"cases":[{"name":"Positive Detection Test","type":"json"' '"expected":1' '"exact":false' '"alerts":1'; do
  contains "rules test --json has $key" "$work/out" "$key"
done
check "rules test --require-tests fails on an untested rule" 1 "$yagura" rules test --no-cache --require-tests "$work/repo/rules"
contains "rules test --require-tests names it" "$work/out" "NONE  $work/repo/rules/windows/untested.yml  Untested"
printf '%s\n' '{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational"},"EventData":{"CommandLine":"cmd /c whoami /all"}}}' \
  >>"$work/repo/regression_data/whoami/sample.json"
check "rules test: more alerts than counted pass (counts are minimums)" 0 "$yagura" rules test --no-cache "$work/repo/rules"
check "rules test --exact-count fails on them" 1 "$yagura" rules test --no-cache --exact-count "$work/repo/rules"
contains "rules test names the failing sample" "$work/out" "sample.json: 2 alerts, expected 1"
check "rules test with a missing path is a usage error" 2 "$yagura" rules test "$work/nowhere"
check "rules test with a missing --root is a usage error" 2 "$yagura" rules test --root "$work/nowhere" "$work/repo/rules"

cat >"$work/events.jsonl" <<'JSON'
{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"ws1","TimeCreated":{"#attributes":{"SystemTime":"2026-01-02T03:04:05Z"}}},"EventData":{"Image":"C:\\Windows\\System32\\whoami.exe","CommandLine":"whoami /all"}}}
{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"ws1"},"EventData":{"Image":"C:\\Windows\\notepad.exe"}}}
JSON
check "scan with a failed rule exits 1" 1 "$yagura" scan --quiet --no-cache --rules "$work/rules" "$work/events.jsonl"
check "scan exits 0 when everything was read" 0 "$yagura" scan --quiet --no-cache --rules "$work/rules/good.yml" "$work/events.jsonl" --output "$work/alerts.jsonl"
lines=$(wc -l <"$work/alerts.jsonl")
[[ $lines -eq 1 ]] || { echo "FAIL: expected 1 alert, got $lines"; failures=$((failures + 1)); }
for key in '"rule":{"id":"11111111-1111-4111-8111-111111111111"' '"title":"Whoami"' '"level":"high"' \
           '"status":"test"' '"author":"Test Author"' '"tags":["attack.t1033"]' \
           '"references":["https://example.org/whoami"]' '"time":"2026-01-02T03:04:05Z"' \
           '"source":{"file":' '"record":1' '"logsource":{"product":"windows"' '"event":{"Event"' \
           '"matched":["Image"]'; do
  contains "jsonl alert has $key" "$work/alerts.jsonl" "$key"
done
check "csv output" 0 "$yagura" scan --quiet --no-cache --rules "$work/rules/good.yml" "$work/events.jsonl" --output-format csv
contains "csv header" "$work/out" "time,level,rule_id,rule_title,rule_author"
contains "csv row" "$work/out" "2026-01-02T03:04:05Z,high,11111111-1111-4111-8111-111111111111,Whoami,Test Author"
check "timesketch output" 0 "$yagura" scan --quiet --no-cache --rules "$work/rules/good.yml" "$work/events.jsonl" --output-format timesketch
for key in '{"message":"[high] Whoami","datetime":"2026-01-02T03:04:05.000Z","timestamp":1767323045000000,"timestamp_desc":"Event time"' \
           '"alert_type":"rule"' '"rule_id":"11111111-1111-4111-8111-111111111111"' '"source_record":"1"' '"event":"{\"Event\"'; do
  contains "timesketch line has $key" "$work/out" "$key"
done
check "bad --output-format is a usage error" 2 "$yagura" scan --output-format xml "$work/events.jsonl"
check "stdin input" 0 bash -c "'$yagura' scan --quiet --no-cache --rules '$work/rules/good.yml' - < '$work/events.jsonl'"
contains "stdin alert" "$work/out" '"title":"Whoami"'
check "--min-level above every rule is refused" 1 "$yagura" scan --quiet --no-cache --min-level critical --rules "$work/rules/good.yml" "$work/events.jsonl"
contains "--min-level refusal says why" "$work/err" "matches --min-level"
[[ ! -s $work/out ]] || { echo "FAIL: --min-level critical still alerted"; failures=$((failures + 1)); }
check "--min-level medium keeps a high rule" 0 "$yagura" scan --quiet --no-cache --min-level medium --rules "$work/rules/good.yml" "$work/events.jsonl"
contains "--min-level medium alert" "$work/out" '"title":"Whoami"'
check "--status of another status is refused" 1 "$yagura" scan --quiet --no-cache --status stable --rules "$work/rules/good.yml" "$work/events.jsonl"
contains "--status refusal names the filters" "$work/err" "--exclude-tag and --status"
check "--status test keeps a test rule" 0 "$yagura" scan --quiet --no-cache --status stable --status test --rules "$work/rules/good.yml" "$work/events.jsonl"
contains "--status test alerts" "$work/out" '"title":"Whoami"'
check "--exclude-tag leaves the rule out" 1 "$yagura" scan --quiet --no-cache --exclude-tag attack.t1033 --rules "$work/rules/good.yml" "$work/events.jsonl"
check "--exclude-tag of another tag keeps it" 0 "$yagura" scan --quiet --no-cache --exclude-tag attack.t1059 --rules "$work/rules/good.yml" "$work/events.jsonl"
check "bad --status is a usage error" 2 "$yagura" scan --status finished "$work/events.jsonl"
# Rule tuning: --exclude-rule, rule lists and level overrides in Hayabusa's files.
check "--exclude-rule leaves the rule out" 1 "$yagura" scan --quiet --no-cache --exclude-rule 11111111-1111-4111-8111-111111111111 --rules "$work/rules/good.yml" "$work/events.jsonl"
contains "--exclude-rule refusal names it" "$work/err" "--exclude-rule"
printf '# noisy rules\n11111111-1111-4111-8111-111111111111 # Whoami\n\n' >"$work/exclude_rules.txt"
check "--summary-json counts the rules in the files" 0 "$yagura" scan --quiet --no-cache --summary-json "$work/summary.json" --rules "$work/rules/good.yml" "$work/events.jsonl"
contains "--summary-json rules_in_files" "$work/summary.json" '"rules_in_files":1'
check "--exclude-rule-list leaves the rule out" 1 "$yagura" scan --quiet --no-cache --exclude-rule-list "$work/exclude_rules.txt" --rules "$work/rules/good.yml" "$work/events.jsonl"
check "--rule-list keeps the rule" 0 "$yagura" scan --quiet --no-cache --rule-list "$work/exclude_rules.txt" --rules "$work/rules/good.yml" "$work/events.jsonl"
contains "--rule-list alerts" "$work/out" '"title":"Whoami"'
printf '# nothing\n' >"$work/empty_list.txt"
check "--rule-list naming nothing runs nothing" 1 "$yagura" scan --quiet --no-cache --rule-list "$work/empty_list.txt" --rules "$work/rules/good.yml" "$work/events.jsonl"
contains "--rule-list naming nothing says so" "$work/err" "the rule lists name no rule"
check "--rule-list of a missing file is a usage error" 2 "$yagura" scan --quiet --rule-list "$work/no-such-list.txt" "$work/events.jsonl"
printf 'id,new_level\n11111111-1111-4111-8111-111111111111,critical # Whoami\nno-such-rule,low\n' >"$work/level_tuning.txt"
check "--level-override raises the level" 0 "$yagura" scan --no-progress --no-cache --level-override "$work/level_tuning.txt" --min-level critical --rules "$work/rules/good.yml" "$work/events.jsonl"
contains "--level-override alert level" "$work/out" '"level":"critical"'
contains "--level-override warns of an unknown id" "$work/err" "1 rule id names no loaded rule (the first: no-such-rule)"
printf '11111111-1111-4111-8111-111111111111,severe\n' >"$work/bad_levels.txt"
check "--level-override with a bad level is refused" 1 "$yagura" scan --quiet --no-cache --level-override "$work/bad_levels.txt" --rules "$work/rules/good.yml" "$work/events.jsonl"
contains "--level-override refusal names file and line" "$work/err" "bad_levels.txt:1: 'severe' is no level"
# rules list: what a scan would run, after the same selection and tuning.
check "rules list" 0 "$yagura" rules list "$work/rules/good.yml"
contains "rules list names the rule" "$work/out" "11111111-1111-4111-8111-111111111111  Whoami  [product=windows category=process_creation]"
contains "rules list counts" "$work/err" "1 listed (1 high); 1 loaded, 0 failed"
check "rules list --level-override --json" 0 "$yagura" rules list --json --level-override "$work/level_tuning.txt" "$work/rules/good.yml"
for key in '"loaded":1' '"listed":1' '"by_level":{"critical":1}' '"by_status":{"test":1}' '"kind":"rule"' '"level":"critical"'; do
  contains "rules list --json has $key" "$work/out" "$key"
done
check "rules list with nothing chosen exits 1" 1 "$yagura" rules list --exclude-rule-list "$work/exclude_rules.txt" "$work/rules/good.yml"
contains "rules list says nothing matches" "$work/err" "no loaded rule matches the selection"
check "rules list --attack-layer" 0 "$yagura" rules list --attack-layer "$work/coverage.json" "$work/rules/good.yml"
contains "rules list --attack-layer scores by rules" "$work/coverage.json" '{"techniqueID":"T1033","score":1,"comment":"Whoami"'
contains "rules list --attack-layer says where" "$work/err" "1 techniques of the Enterprise matrix in"
check "rules list --attack-layer-score level" 0 "$yagura" rules list --attack-layer "$work/coverage-level.json" --attack-layer-score level "$work/rules/good.yml"
contains "rules list --attack-layer-score level" "$work/coverage-level.json" '{"techniqueID":"T1033","score":4,'
check "rules list --attack-layer-score without --attack-layer is a usage error" 2 "$yagura" rules list --attack-layer-score level "$work/rules/good.yml"
check "rules list --attack-layer to a path that takes no file" 2 "$yagura" rules list --attack-layer "$work/no-such-dir/c.json" "$work/rules/good.yml"
check "rules list of a missing path is a usage error" 2 "$yagura" rules list "$work/no-such-rules"
check "--tag selects" 0 "$yagura" scan --quiet --no-cache --tag attack.t1033 --rules "$work/rules/good.yml" "$work/events.jsonl"
contains "--tag alert" "$work/out" '"title":"Whoami"'
check "--rule-id of no loaded rule is refused" 1 "$yagura" scan --quiet --no-cache --rule-id 22222222-2222-4222-8222-222222222222 --rules "$work/rules/good.yml" "$work/events.jsonl"
contains "--rule-id refusal says why" "$work/err" "none of the 1 loaded rules"
check "--rule-id selects the rule" 0 "$yagura" scan --quiet --no-cache --rule-id 11111111-1111-4111-8111-111111111111 --rules "$work/rules/good.yml" "$work/events.jsonl"
contains "--rule-id alert" "$work/out" '"title":"Whoami"'
contains "alert names the host" "$work/out" '"host":"ws1"'
contains "alert details the matched field" "$work/out" '"details":{"Image":"C:\\Windows\\System32\\whoami.exe"}'
check "--from the day of the event keeps it" 0 "$yagura" scan --quiet --no-cache --from 2026-01-02 --to 2026-01-02 --rules "$work/rules/good.yml" "$work/events.jsonl"
contains "--from/--to alert" "$work/out" '"title":"Whoami"'
check "--from after the event" 0 "$yagura" scan --no-progress --no-cache --from 2026-01-02T03:04:06Z --rules "$work/rules/good.yml" "$work/events.jsonl"
[[ ! -s $work/out ]] || { echo "FAIL: --from after the event still alerted"; failures=$((failures + 1)); }
contains "--from counts what it left out" "$work/err" "1 events outside it, 1 without a readable time"
check "--from that is no time is a usage error" 2 "$yagura" scan --quiet --from yesterday "$work/events.jsonl"
contains "--from refusal says what it takes" "$work/err" "give a date"
check "--from after --to is a usage error" 2 "$yagura" scan --quiet --from 2026-01-03 --to 2026-01-02 "$work/events.jsonl"
check "--where keeps the event" 0 "$yagura" scan --no-progress --no-cache -w 'Image|endswith=\whoami.exe' -w 'EventID|neq=4688' --rules "$work/rules/good.yml" "$work/events.jsonl"
contains "--where alert" "$work/out" '"title":"Whoami"'
check "--where leaves the event out" 0 "$yagura" scan --no-progress --no-cache -w 'Computer=dc01' --rules "$work/rules/good.yml" "$work/events.jsonl"
[[ ! -s $work/out ]] || { echo "FAIL: --where that does not hold still alerted"; failures=$((failures + 1)); }
contains "--where counts what it left out" "$work/err" "where      2 events where the --where conditions do not hold"
mkdir -p "$work/copy" && cp "$work/events.jsonl" "$work/copy/events.jsonl"
check "--skip-duplicate-records" 0 "$yagura" scan --no-progress --no-cache --skip-duplicate-records --summary-json "$work/summary-dup.json" --rules "$work/rules/good.yml" "$work/events.jsonl" "$work/copy/events.jsonl"
[[ $(grep -c '"title":"Whoami"' "$work/out") == 1 ]] || { echo "FAIL: --skip-duplicate-records still alerted on the copy"; failures=$((failures + 1)); }
contains "--skip-duplicate-records counts the copies" "$work/err" "duplicates 1 alerting records were copies of records read before: their 1 alerts left out"
contains "--summary-json counts the copies" "$work/summary-dup.json" '"records_duplicate":1,"alerts_duplicate":1'
check "--pivot-keywords" 0 "$yagura" scan --quiet --no-cache --pivot-keywords "$work/pivot.json" --rules "$work/rules/good.yml" "$work/events.jsonl"
contains "--pivot-keywords names the host" "$work/pivot.json" '"hosts":[{"value":"ws1","count":1'
check "--attack-layer" 0 "$yagura" scan --quiet --no-cache --attack-layer "$work/layer.json" --rules "$work/rules/good.yml" "$work/events.jsonl"
contains "--attack-layer is a Navigator layer" "$work/layer.json" '"versions":{"navigator":"5.1.0","layer":"4.5"},"domain":"enterprise-attack"'
contains "--attack-layer scores the technique by level" "$work/layer.json" '{"techniqueID":"T1033","score":4,"comment":"Whoami (1)"'
check "--attack-layer-score alerts" 0 "$yagura" scan --quiet --no-cache --attack-layer "$work/layer-alerts.json" --attack-layer-score alerts --rules "$work/rules/good.yml" "$work/events.jsonl"
contains "--attack-layer-score alerts counts" "$work/layer-alerts.json" '{"techniqueID":"T1033","score":1,'
check "--attack-layer-score without --attack-layer is a usage error" 2 "$yagura" scan --quiet --attack-layer-score alerts "$work/events.jsonl"
check "--attack-layer-score of another kind is a usage error" 2 "$yagura" scan --quiet --attack-layer "$work/l.json" --attack-layer-score hosts "$work/events.jsonl"
check "--attack-layer to a path that takes no file" 1 "$yagura" scan --quiet --no-cache --attack-layer "$work/no-such-dir/l.json" --rules "$work/rules/good.yml" "$work/events.jsonl"
contains "--attack-layer refusal names it" "$work/err" "--attack-layer: cannot write"
check "--geo-ip of a missing database" 1 "$yagura" scan --quiet --no-cache --geo-ip "$work/no-such.mmdb" --rules "$work/rules/good.yml" "$work/events.jsonl"
contains "--geo-ip names the database" "$work/err" "--geo-ip: $work/no-such.mmdb: no such file or directory"
printf 'not a database' >"$work/bad.mmdb"
check "--geo-ip of a file that is no database" 1 "$yagura" scan --quiet --no-cache --geo-ip "$work/bad.mmdb" --rules "$work/rules/good.yml" "$work/events.jsonl"
contains "--geo-ip says why" "$work/err" "bad.mmdb: The MaxMind DB file contains invalid metadata"
check "--html-report" 0 "$yagura" scan --quiet --no-cache --html-report "$work/report.html" --rules "$work/rules/good.yml" "$work/events.jsonl"
contains "--html-report is a page" "$work/report.html" "<title>Yagura scan report</title>"
contains "--html-report lists the rule" "$work/report.html" "Whoami<br>"
check "--html-report-lang ja" 0 "$yagura" scan --quiet --no-cache --html-report "$work/report-ja.html" --html-report-lang ja --rules "$work/rules/good.yml" "$work/events.jsonl"
contains "--html-report-lang ja speaks Japanese" "$work/report-ja.html" '<span class="level high">高</span>'
check "--html-report-lang without --html-report is a usage error" 2 "$yagura" scan --quiet --html-report-lang ja "$work/events.jsonl"
check "--html-report to a path that takes no file" 1 "$yagura" scan --quiet --no-cache --html-report "$work/no-such-dir/r.html" --rules "$work/rules/good.yml" "$work/events.jsonl"
contains "--html-report refusal names it" "$work/err" "--html-report: cannot write"
# A file that cannot be written once the scan has read everything (/dev/full: a full disk) is
# said, the exit status is 1, and the other outputs and the summary are still written.
if [[ -w /dev/full ]]; then
  check "--html-report that fills the disk" 1 "$yagura" scan --no-progress --no-cache --html-report /dev/full --pivot-keywords "$work/pivot-full.json" --summary-json "$work/summary-full.json" --rules "$work/rules/good.yml" "$work/events.jsonl"
  contains "a report that could not be written is named" "$work/err" "yagura scan: --html-report: cannot write /dev/full: No space left on device"
  contains "the summary still comes" "$work/err" "NOT WRITTEN --html-report: cannot write /dev/full"
  contains "the alerts are still written" "$work/out" '"title":"Whoami"'
  contains "the pivot keywords are still written" "$work/pivot-full.json" '"hosts":[{"value":"ws1"'
  contains "--summary-json lists what was not written" "$work/summary-full.json" '"output_failures":["--html-report: cannot write /dev/full: No space left on device"]'
  check "alerts to a full disk" 1 "$yagura" scan --quiet --no-cache --output /dev/full --summary-json "$work/summary-full.json" --rules "$work/rules/good.yml" "$work/events.jsonl"
  contains "alerts that could not be written are named" "$work/err" "cannot write alerts: No space left on device"
  contains "--summary-json counts the alerts not written" "$work/summary-full.json" '"alerts":1,'
fi
check "--pivot-keywords of sshd logs" 0 "$yagura" scan --quiet --no-cache --pivot-keywords "$work/pivot-linux.json" --pivot-min-level low --rules "$src/rules" "$src/samples/linux"
contains "--pivot-keywords names sshd's user" "$work/pivot-linux.json" '"users":[{"value":"root"'
contains "--pivot-keywords names sshd's source" "$work/pivot-linux.json" '"addresses":[{"value":"203.0.113.45"'
check "--pivot-min-level without --pivot-keywords is a usage error" 2 "$yagura" scan --quiet --pivot-min-level low "$work/events.jsonl"
check "--where with an unknown modifier is a usage error" 2 "$yagura" scan --quiet -w 'Image|nosuch=x' "$work/events.jsonl"
contains "--where refusal names the modifier" "$work/err" "unknown modifier 'nosuch'"
# --sort time: a timeline over files whose events come out of order.
cat >"$work/later.jsonl" <<'JSON'
{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"ws2","TimeCreated":{"#attributes":{"SystemTime":"2026-01-03T00:00:00Z"}}},"EventData":{"Image":"C:\\Windows\\System32\\whoami.exe","CommandLine":"whoami /all"}}}
{"Event":{"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Sysmon"}},"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"ws2","TimeCreated":{"#attributes":{"SystemTime":"2026-01-01T00:00:00Z"}}},"EventData":{"Image":"C:\\Windows\\System32\\whoami.exe","CommandLine":"whoami /all"}}}
JSON
check "--sort time" 0 "$yagura" scan --quiet --no-cache --sort time --rules "$work/rules/good.yml" "$work/later.jsonl" "$work/events.jsonl"
times=$(grep -o '"time":"[^"]*"' "$work/out" | tr '\n' ' ')
[[ $times == '"time":"2026-01-01T00:00:00Z" "time":"2026-01-02T03:04:05Z" "time":"2026-01-03T00:00:00Z" ' ]] ||
  { echo "FAIL: --sort time gave $times"; failures=$((failures + 1)); }
check "--sort of another order is a usage error" 2 "$yagura" scan --quiet --sort host "$work/events.jsonl"
check "--sort-dir without --sort time is a usage error" 2 "$yagura" scan --quiet --sort-dir "$work" "$work/events.jsonl"
check "--sort-dir that is no directory is a usage error" 2 "$yagura" scan --quiet --sort time --sort-dir "$work/no-such-dir" "$work/events.jsonl"
contains "--sort-dir refusal names it" "$work/err" "no-such-dir"
check "summary on stderr" 0 "$yagura" scan --no-progress --no-cache --rules "$work/rules/good.yml" "$work/events.jsonl"
contains "summary table" "$work/err" "Alerts by level"
contains "summary top hosts" "$work/err" "ws1"
contains "summary says when the alerted events happened" "$work/err" "alerted    events from 2026-01-02T03:04:05.000Z to 2026-01-02T03:04:05.000Z"
contains "summary days" "$work/err" "2026-01-02"
check "missing input exits 1" 1 "$yagura" scan --quiet --no-cache --rules "$work/rules/good.yml" "$work/events.jsonl" "$work/no-such-file"
contains "missing input is named" "$work/err" "no-such-file"
contains "the readable input is still scanned" "$work/out" '"title":"Whoami"'

# Threads change nothing in the output: same alerts, same order.
# search: records holding strings or regexes, as JSON lines.
check "search --help" 0 "$yagura" search --help
check "search without a pattern is a usage error" 2 "$yagura" search "$work/events.jsonl"
contains "search without a pattern says why" "$work/err" "nothing to search for"
contains "search without a pattern names a time range" "$work/err" "a time range (--from, --to)"
check "search with a bad regex is a usage error" 2 "$yagura" search -e '(unclosed' "$work/events.jsonl"
check "search with a bad --from is a usage error" 2 "$yagura" search -s x --from yesterday "$work/events.jsonl"
check "search finds a string" 0 "$yagura" search -s WHOAMI "$work/events.jsonl"
lines=$(wc -l <"$work/out")
[[ $lines -eq 1 ]] || { echo "FAIL: search: expected 1 record, got $lines"; failures=$((failures + 1)); }
for key in '"source":{"file":"'"$work"'/events.jsonl","record":1}' '"time":"2026-01-02T03:04:05.000Z"' \
           '"matches":[{"field":"Event.EventData.Image","value":"C:\\Windows\\System32\\whoami.exe"},{"field":"Event.EventData.CommandLine","value":"whoami /all"}]' \
           '"event":{"Event"'; do
  contains "search record has $key" "$work/out" "$key"
done
contains "search summary" "$work/err" "1 records found in 2 read from 1 files"
check "search --field --count" 0 "$yagura" search -s exe -f Image --count "$work/events.jsonl"
contains "search --count prints the number" "$work/out" "2"
check "search --all needs every pattern" 0 "$yagura" search -s whoami -e 'notepad' --all --count "$work/events.jsonl"
contains "search --all finds none" "$work/out" "0"
check "search --field Image also reads 4688's NewProcessName" 0 "$yagura" search -s certutil -f Image --count "$src/samples/windows"
contains "search --field Image counts Sysmon and 4688 events" "$work/out" "3"
check "search --where takes Sigma conditions" 0 "$yagura" search -w 'EventID=1' -w 'Image|endswith=\whoami.exe' --count "$work/events.jsonl"
contains "search --where finds the record" "$work/out" "1"
check "search --where with an unknown modifier is a usage error" 2 "$yagura" search -w 'Image|nosuch=x' "$work/events.jsonl"
contains "search --where names the modifier" "$work/err" "unknown modifier 'nosuch'"
check "search of a missing file exits 1" 1 "$yagura" search -s x "$work/events.jsonl" "$work/nowhere.jsonl"
check "search --sort time" 0 "$yagura" search -s whoami --sort time "$work/later.jsonl" "$work/events.jsonl"
times=$(grep -o '"time":"[^"]*"' "$work/out" | tr '\n' ' ')
[[ $times == '"time":"2026-01-01T00:00:00.000Z" "time":"2026-01-02T03:04:05.000Z" "time":"2026-01-03T00:00:00.000Z" ' ]] ||
  { echo "FAIL: search --sort time gave $times"; failures=$((failures + 1)); }
check "search of a time range alone" 0 "$yagura" search --from 2026-01-02 --to 2026-01-02 --count "$work/later.jsonl" "$work/events.jsonl"
contains "search of a time range finds the day's record" "$work/out" "1"
check "search --sort of another order is a usage error" 2 "$yagura" search -s x --sort host "$work/events.jsonl"
check "search --sort-dir without --sort time is a usage error" 2 "$yagura" search -s x --sort-dir "$work" "$work/events.jsonl"
check "search --sort-dir that is no directory is a usage error" 2 "$yagura" search -s x --sort time --sort-dir "$work/no-such-dir" "$work/events.jsonl"
contains "search --sort-dir refusal names it" "$work/err" "no-such-dir"

# stats: what the sample logs hold.
check "stats --help" 0 "$yagura" stats --help
check "stats of the samples" 0 "$yagura" stats "$src/samples"
contains "stats counts records" "$work/out" "records    55 read, 0 skipped"
contains "stats names kinds as rules see them" "$work/out" "product=windows service=sysmon category=process_creation"
contains "stats counts event ids" "$work/out" "Microsoft-Windows-Sysmon/Operational 1"
check "stats --json" 0 "$yagura" stats --json "$src/samples/windows"
for key in '"records_read":15' '"first_time":"2026-11-26T' '"kinds":[{' '"event_ids":[{' '"hosts":[{"host":"WS01.corp.example.org","count":15}]' '"days":[{"day":"2026-11-26","count":15}]'; do
  contains "stats --json has $key" "$work/out" "$key"
done
check "stats --where" 0 "$yagura" stats --json -w 'EventID=4625' "$src/samples"
contains "stats --where counts what it left out" "$work/out" '"records_not_where":53'
check "stats with a bad --where is a usage error" 2 "$yagura" stats -w 'EventID|nosuch=1' "$src/samples"
check "stats --top 0 is a usage error" 2 "$yagura" stats --top 0 "$src/samples"
check "stats with a bad --logsource is a usage error" 2 "$yagura" stats --logsource productlinux "$src/samples"
check "stats of a missing file exits 1" 1 "$yagura" stats "$src/samples" "$work/nowhere.log"
# A ZIP archive is read as the folder it holds: the same alerts, members named ARCHIVE!/NAME.
(cd "$src" && /usr/bin/python3 -c 'import sys, zipfile, pathlib
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for f in sorted(pathlib.Path("samples").rglob("*")):
        if f.is_file(): z.write(f)' "$work/samples.zip")
check "scan of a ZIP archive" 0 "$yagura" scan --quiet --no-cache --rules "$src/rules" -o "$work/zip-alerts.jsonl" "$work/samples.zip"
check "scan of the folder" 0 "$yagura" scan --quiet --no-cache --rules "$src/rules" -o "$work/dir-alerts.jsonl" "$src/samples"
[[ $(wc -l <"$work/zip-alerts.jsonl") -gt 0 && $(wc -l <"$work/zip-alerts.jsonl") == $(wc -l <"$work/dir-alerts.jsonl") ]] ||
  { echo "FAIL: a ZIP archive gave other alerts than its folder"; failures=$((failures + 1)); }
contains "a ZIP member is named ARCHIVE!/NAME" "$work/zip-alerts.jsonl" "samples.zip!/samples/windows/sysmon.jsonl"
head -c 100 "$work/samples.zip" >"$work/cut.zip"
check "a damaged ZIP archive exits 1" 1 "$yagura" scan --quiet --no-cache --rules "$src/rules" -o /dev/null "$work/cut.zip" "$src/samples/linux"
contains "a damaged ZIP archive is named" "$work/err" "cut.zip: not a readable ZIP archive"
# A tar archive (.tar.gz here, as UAC writes) is read as the folder it holds: the same alerts
# in the same order, members named ARCHIVE!/NAME.
(cd "$src" && tar --sort=name --format=gnu -czf "$work/samples.tar.gz" samples)
check "scan of a .tar.gz archive" 0 "$yagura" scan --quiet --no-cache --rules "$src/rules" -o "$work/tar-alerts.jsonl" "$work/samples.tar.gz"
contains "a tar member is named ARCHIVE!/NAME" "$work/tar-alerts.jsonl" "samples.tar.gz!/samples/windows/sysmon.jsonl"
sed "s#$work/samples.tar.gz!/samples/#$src/samples/#g" "$work/tar-alerts.jsonl" | cmp -s - "$work/dir-alerts.jsonl" ||
  { echo "FAIL: a tar archive gave other alerts than its folder"; failures=$((failures + 1)); }
check "stats of a .tar.gz archive" 0 "$yagura" stats "$work/samples.tar.gz"
contains "stats of a .tar.gz counts every record" "$work/out" "records    55 read, 0 skipped"
(cd "$src" && tar --sort=name -cf "$work/samples.tar" samples)
head -c 12000 "$work/samples.tar" >"$work/cut.tar"
check "a tar archive cut short exits 1" 1 "$yagura" stats "$work/cut.tar"
contains "a tar archive cut short is named" "$work/err" "cut.tar: a damaged tar archive: the archive ends inside"
contains "a tar archive cut short names its member" "$work/err" "cut.tar!/samples/"
# events: the service's event store, read-only; no store is a clear error, a bad time a usage one.
check "events --help" 0 "$yagura" events --help
check "events without a store" 1 "$yagura" events --data "$work/no-such-data"
contains "events names the missing store" "$work/err" "no event store at"
check "events with a bad time" 2 "$yagura" events --data "$work" --from yesterday

# extract-base64: the sample's encoded PowerShell command, decoded.
check "extract-base64 --help" 0 "$yagura" extract-base64 --help
check "extract-base64" 0 "$yagura" extract-base64 "$src/samples"
contains "extract-base64 decodes UTF-16LE" "$work/out" '"field":"CommandLine","encoding":"utf-16le"'
contains "extract-base64 gives the text" "$work/out" '"decoded":"IEX (New-Object Net.WebClient)"'
contains "extract-base64 summary" "$work/err" "1 payloads in 1 of"
check "extract-base64 as CSV" 0 "$yagura" extract-base64 -q --output-format csv "$src/samples"
contains "extract-base64 CSV header" "$work/out" "time,file,record,host,event_id,field,encoding,compression,file_type,layers,decoded_bytes,decoded,base64"
contains "extract-base64 CSV row" "$work/out" ",CommandLine,utf-16le,,,1,60,IEX (New-Object Net.WebClient),"
check "extract-base64 --field elsewhere finds nothing" 0 "$yagura" extract-base64 --field Image "$src/samples"
[[ ! -s $work/out ]] || { echo "FAIL: extract-base64 --field Image found something"; failures=$((failures + 1)); }
check "extract-base64 --min-length 2 is a usage error" 2 "$yagura" extract-base64 --min-length 2 "$src/samples"
check "extract-base64 with a bad --where is a usage error" 2 "$yagura" extract-base64 -w 'Image|nosuch=x' "$src/samples"
check "extract-base64 of a missing file exits 1" 1 "$yagura" extract-base64 "$src/samples" "$work/nowhere.log"

# carve-evtx: a log hidden in other bytes comes back as an EVTX file with the log's records.
check "carve-evtx --help" 0 "$yagura" carve-evtx --help
check "carve-evtx without --output is a usage error" 2 "$yagura" carve-evtx "$src/samples/linux/auth.log"
check "carve-evtx of bytes without a log" 0 "$yagura" carve-evtx --json -o "$work/carved-none" "$src/samples/linux/auth.log"
contains "carve-evtx counts nothing found" "$work/out" '"chunks":0,'
check "carve-evtx of a folder reads its files" 0 "$yagura" carve-evtx --json -o "$work/carved-folder" "$src/samples"
contains "carve-evtx of a folder counts its files" "$work/out" "\"inputs\":$(find "$src/samples" -type f | wc -l),"
check "carve-evtx of a missing file exits 1" 1 "$yagura" carve-evtx -o "$work/carved-missing" "$work/nowhere.img"
evtx_sample="$src/../shared/data/logs/evtx/Lateral Movement/LM_sysmon_psexec_smb_meterpreter.evtx"
if [[ -f $evtx_sample ]]; then
  { head -c 100001 /dev/urandom; tail -c +4097 "$evtx_sample"; head -c 999 /dev/urandom; } >"$work/disk.img"
  check "carve-evtx of an image" 0 "$yagura" carve-evtx -o "$work/carved" "$work/disk.img"
  carved_file="$work/carved/carved-Microsoft-Windows-Sysmon%4Operational-0001.evtx"
  contains "carve-evtx names what it wrote, by log" "$work/out" "$carved_file"
  check "carve-evtx into a folder already carved into is a usage error" 2 "$yagura" carve-evtx -o "$work/carved" "$work/disk.img"
  "$yagura" dump "$evtx_sample" >"$work/original.jsonl" 2>/dev/null
  "$yagura" dump "$carved_file" >"$work/recovered.jsonl" 2>/dev/null
  [[ -s $work/original.jsonl ]] && cmp -s "$work/original.jsonl" "$work/recovered.jsonl" ||
    { echo "FAIL: carve-evtx did not give the log's records back"; failures=$((failures + 1)); }
else
  echo "skip: carve-evtx of an image (test data absent: $evtx_sample)"
fi

inputs=("$src/samples")
[[ -d $src/../shared/data/sigma/regression/jsonl ]] && inputs+=("$src/../shared/data/sigma/regression/jsonl")
for t in 1 2 3; do
  timeout 300 "$yagura" scan --quiet --no-cache --threads $t "${inputs[@]}" --output "$work/threads-$t.jsonl"
  status=$?
  [[ $status -le 1 ]] || { echo "FAIL: --threads $t: exit $status"; failures=$((failures + 1)); }
done
[[ -s $work/threads-1.jsonl ]] || { echo "FAIL: --threads 1 produced no alerts"; failures=$((failures + 1)); }
for t in 2 3; do
  cmp -s "$work/threads-1.jsonl" "$work/threads-$t.jsonl" ||
    { echo "FAIL: --threads $t output differs from --threads 1"; failures=$((failures + 1)); }
done

if [[ $failures -gt 0 ]]; then echo "$failures failures"; exit 1; fi
echo "cli contract: all checks passed"
