#!/usr/bin/env bash
# Indicator matching at scale: 1,000,000 mixed indicators (IPs, CIDR ranges, IPv6, domains,
# URLs, hashes) over the standard corpus with every active SigmaHQ rule.
#
# Prints, for one thread (median of RUNS runs, alternating): events/s without indicators and
# with them, and the slowdown; the extra load time and the extra peak memory per indicator;
# and a `grep -F -f` over the same values and corpus as a baseline.
#
# usage: bench/intel_corpus.sh [BUILD_DIR]    (env: RUNS=5, EVENTS=100000, INDICATORS=1000000)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
yagura=$build/yagura
runs=${RUNS:-5}
count=${INDICATORS:-1000000}
# shellcheck source=bench/corpus.sh
source "$here/bench/corpus.sh"
cache=$data/cache
out=$data/alerts-intel.jsonl
feed=$data/indicators-$count.csv
values=$data/indicators-$count.txt

if [[ ! -s $feed ]]; then
  # A few values that do occur in the corpus, so the run also produces indicator alerts: the
  # rarest public addresses and names, as real feeds hit a few events, not a tenth of them.
  /usr/bin/python3 - "$corpus" > "$data/planted.txt" <<'PY'
import collections, json, sys
counts = collections.Counter()
with open(sys.argv[1]) as corpus:
    for line in corpus:
        data = json.loads(line).get("Event", {}).get("EventData") or {}
        for key in ("DestinationIp", "QueryName"):
            value = data.get(key)
            if isinstance(value, str) and not value.startswith(("10.", "192.168.", "172.")):
                counts[value] += 1
rare = sorted(counts.items(), key=lambda item: (item[1], item[0]))[:20]
print("\n".join(value for value, _ in rare))
PY
  python3 "$here/bench/gen_indicators.py" "$count" "$feed" --plant "$data/planted.txt" --values "$values"
fi

run() {  # run ARGS... -> prints "events_per_second load_seconds peak_kb alerts indicator_alerts"
  local summary=$data/summary-intel.json
  /usr/bin/time -f %M -o "$data/rss-intel" "$yagura" scan --quiet "${rules[@]}" --cache-dir "$cache" \
    --summary-json "$summary" --output "$out" --threads 1 "$@" "$corpus" || true
  /usr/bin/python3 - "$summary" "$(cat "$data/rss-intel")" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(s["events_per_second"], s["load_seconds"], sys.argv[2], s["alerts"], s.get("indicator_alerts", 0))
PY
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

run >/dev/null  # warm the matcher cache
plain=(); intel=(); plain_load=(); intel_load=(); plain_rss=0; intel_rss=0
for ((i = 0; i < runs; i++)); do
  read -r rate load rss alerts _ < <(run); plain+=("$rate"); plain_load+=("$load")
  ((rss > plain_rss)) && plain_rss=$rss
  read -r rate load rss ialerts indicator_alerts < <(run --intel "$feed"); intel+=("$rate")
  intel_load+=("$load"); ((rss > intel_rss)) && intel_rss=$rss
done
p=$(printf '%s\n' "${plain[@]}" | median)
q=$(printf '%s\n' "${intel[@]}" | median)
pl=$(printf '%s\n' "${plain_load[@]}" | median)
ql=$(printf '%s\n' "${intel_load[@]}" | median)

start=$(date +%s.%N)
/usr/bin/time -f %M -o "$data/rss-grep" grep -F -c -f "$values" "$corpus" > "$data/grep-count" || true
grep_seconds=$(echo "$(date +%s.%N) - $start" | bc -l)

echo "corpus: $corpus, indicators: $count (CSV list), rules: all active SigmaHQ rules, runs: $runs"
printf 'one thread, no indicators:  %12.0f events/s (%d alerts)\n' "$p" "$alerts"
printf 'one thread, %d indicators: %12.0f events/s (%d alerts, %d from indicators)\n' "$count" "$q" "$ialerts" "$indicator_alerts"
printf 'slowdown:                   %12.1f %%\n' "$(echo "(1 - $q / $p) * 100" | bc -l)"
printf 'indicator loading:          %12.2f s (load %.2f s with, %.2f s without)\n' "$(echo "$ql - $pl" | bc -l)" "$ql" "$pl"
printf 'memory per indicator:       %12.0f bytes (peak %d MB with, %d MB without)\n' \
  "$(echo "($intel_rss - $plain_rss) * 1024 / $count" | bc -l)" $((intel_rss / 1024)) $((plain_rss / 1024))
printf 'grep -F -f baseline:        %12.2f s, peak %d MB, %s matching lines\n' "$grep_seconds" \
  $(($(cat "$data/rss-grep") / 1024)) "$(cat "$data/grep-count")"
