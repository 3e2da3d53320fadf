#!/usr/bin/env bash
# EVTX throughput: the 277 EVTX-ATTACK-SAMPLES files in ../shared/data/logs/evtx, each read
# REPEAT times, with every active SigmaHQ rule, one thread. Prints the median events/s (of RUNS
# runs) with detection and with --no-detect.
#
# usage: bench/evtx_corpus.sh [BUILD_DIR]    (env: RUNS=3, REPEAT=5)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
yagura=$build/yagura
runs=${RUNS:-3}
repeat=${REPEAT:-5}
EVENTS=100000
# shellcheck source=bench/corpus.sh
source "$here/bench/corpus.sh"
mapfile -t files < <(find "$shared/logs/evtx" -name '*.evtx' | sort)
if [[ ${#files[@]} -eq 0 ]]; then
  echo "$(basename "$0"): no EVTX files under $shared/logs/evtx; nothing to measure" >&2
  exit 0
fi
inputs=()
for ((i = 0; i < repeat; i++)); do inputs+=("${files[@]}"); done

run() {  # run ARGS... -> "events_per_second records alerts"
  "$yagura" scan --quiet "${rules[@]}" --cache-dir "$data/cache" --threads 1 \
    --summary-json "$data/summary-evtx.json" -o /dev/null "$@" "${inputs[@]}" 2>/dev/null || true
  /usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["events_per_second"], s["records_read"], s["alerts"])' \
    "$data/summary-evtx.json"
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

run >/dev/null  # warm the matcher cache
detect=(); nodetect=()
for ((i = 0; i < runs; i++)); do
  read -r rate records alerts < <(run); detect+=("$rate")
  read -r rate _ _ < <(run --no-detect); nodetect+=("$rate")
done
echo "EVTX: ${#files[@]} files x $repeat ($records records), all active SigmaHQ rules, one thread, runs: $runs"
printf 'detection:   %10.0f events/s (%d alerts)\n' "$(printf '%s\n' "${detect[@]}" | median)" "$alerts"
printf 'no-detect:   %10.0f events/s\n' "$(printf '%s\n' "${nodetect[@]}" | median)"
