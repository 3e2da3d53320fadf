#!/usr/bin/env bash
# End-to-end throughput of `yagura scan` over the standard corpus with every active SigmaHQ rule.
#
# Prints, for one thread (median of RUNS runs): events/s with detection, events/s with
# --no-detect (parse and extract the rule-referenced fields only) and their ratio; the same for
# two threads; rule loading with a cold and a warm compiled-matcher cache; peak resident memory.
# Rule loading is excluded from the rates (the scan reports it separately). Also printed: the
# median of each round's own ratio and speed-up (a round's runs are seconds apart).
#
# usage: bench/scan_corpus.sh [BUILD_DIR]    (env: RUNS=5, EVENTS=100000, ONE_CPU=, CORPUS_IN_MEMORY=)
# ONE_CPU=N runs the one-thread scans on CPU N only (taskset): on a machine whose cores slow
# down by turns, a one-thread rate otherwise depends on where the scheduler put it.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
yagura=$build/yagura
runs=${RUNS:-5}
# shellcheck source=bench/corpus.sh
source "$here/bench/corpus.sh"
cache=$data/cache
out=$data/alerts.jsonl

run() {  # run --threads N ARGS... -> prints "events_per_second load_seconds peak_kb alerts"
  local summary=$data/summary.json
  local pin=()
  [[ -n ${ONE_CPU:-} && $2 == 1 ]] && pin=(taskset -c "$ONE_CPU")
  /usr/bin/time -f %M -o "$data/rss" "${pin[@]}" "$yagura" scan --quiet "${rules[@]}" --cache-dir "$cache" \
    --summary-json "$summary" --output "$out" "$@" "$corpus" || true
  /usr/bin/python3 - "$summary" "$(cat "$data/rss")" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(s["events_per_second"], s["load_seconds"], sys.argv[2], s["alerts"], s["records_read"])
PY
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

rm -rf "$cache"
read -r _ cold_load cold_rss _ _ < <(run --threads 1)
read -r _ warm_load _ _ _ < <(run --threads 1)

detect=(); nodetect=(); two=(); peak=0; alerts=0; records=0
for ((i = 0; i < runs; i++)); do
  read -r rate _ rss alerts records < <(run --threads 1); detect+=("$rate"); ((rss > peak)) && peak=$rss
  read -r rate _ rss _ _ < <(run --threads 1 --no-detect); nodetect+=("$rate")
  read -r rate _ rss _ _ < <(run --threads 2); two+=("$rate"); ((rss > peak)) && peak=$rss
done
d=$(printf '%s\n' "${detect[@]}" | median)
n=$(printf '%s\n' "${nodetect[@]}" | median)
t=$(printf '%s\n' "${two[@]}" | median)
echo "corpus: $corpus ($records events), rules: all active SigmaHQ rules, runs: $runs"
printf 'one thread, detection:     %12.0f events/s\n' "$d"
printf 'one thread, --no-detect:   %12.0f events/s\n' "$n"
printf 'ratio detect/no-detect:    %12.2f\n' "$(echo "$d / $n" | bc -l)"
printf 'two threads, detection:    %12.0f events/s (%.2fx one thread)\n' "$t" "$(echo "$t / $d" | bc -l)"
# The machine's speed moves from minute to minute; a round's one- and two-thread runs are
# seconds apart, so the median of the rounds' own ratios is the steadier figure for both.
per_round() {  # UNIT NUMERATORS... -- DENOMINATORS... -> median (lowest-highest) of the ratios
  local unit=$1 a=() b=()
  shift
  while [[ $1 != -- ]]; do a+=("$1"); shift; done
  shift
  b=("$@")
  for i in "${!a[@]}"; do echo "${a[$i]} / ${b[$i]}" | bc -l; done | sort -g |
    awk -v u="$unit" '{r[NR]=$1}
      END {printf "%.2f%s (%.2f%s-%.2f%s)", r[int((NR+1)/2)], u, r[1], u, r[NR], u}'
}
printf 'rounds own, median (range): ratio %s, two threads %s\n' \
  "$(per_round "" "${detect[@]}" -- "${nodetect[@]}")" \
  "$(per_round x "${two[@]}" -- "${detect[@]}")"
printf 'rule loading:              cold %.2f s, warm cache %.2f s\n' "$cold_load" "$warm_load"
printf 'peak resident memory:      %d MB (cold load run: %d MB)\n' $((peak / 1024)) $((cold_rss / 1024))
printf 'alerts:                    %d\n' "$alerts"
