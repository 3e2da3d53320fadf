#!/usr/bin/env bash
# EVTX throughput: the 277 EVTX-ATTACK-SAMPLES files in ../shared/data/logs/evtx, each read
# REPEAT times, with every active SigmaHQ rule. Prints the median events/s (of RUNS runs) of one
# thread with detection and with --no-detect, and of two threads with detection.
#
# Then one EVTX file of LARGE_MIB MiB made of the samples' chunks (bench/make_large_evtx.py,
# written once into bench/data; LARGE_MIB=0 skips it), as a domain controller's Security.evtx
# would be: one and two threads, which read it a range of chunks per worker.
#
# usage: bench/evtx_corpus.sh [BUILD_DIR]    (env: RUNS=3, REPEAT=5, LARGE_MIB=200, ONE_CPU=)
# ONE_CPU=N runs the one-thread scans on CPU N only (see bench/scan_corpus.sh).
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

run() {  # run THREADS ARGS... -> "events_per_second records alerts"
  local threads=$1
  shift
  local pin=()
  [[ -n ${ONE_CPU:-} && $threads == 1 ]] && pin=(taskset -c "$ONE_CPU")
  "${pin[@]}" "$yagura" scan --quiet "${rules[@]}" --cache-dir "$data/cache" --threads "$threads" \
    --summary-json "$data/summary-evtx.json" -o /dev/null "$@" "${inputs[@]}" 2>/dev/null || true
  /usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); print(s["events_per_second"], s["records_read"], s["alerts"])' \
    "$data/summary-evtx.json"
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

run 1 >/dev/null  # warm the matcher cache
detect=(); nodetect=(); two=()
for ((i = 0; i < runs; i++)); do
  read -r rate records alerts < <(run 1); detect+=("$rate")
  read -r rate _ _ < <(run 1 --no-detect); nodetect+=("$rate")
  read -r rate _ two_alerts < <(run 2); two+=("$rate")
  if [[ $two_alerts != "$alerts" ]]; then
    echo "$(basename "$0"): two threads gave $two_alerts alerts, one thread $alerts" >&2
    exit 1
  fi
done
echo "EVTX: ${#files[@]} files x $repeat ($records records), all active SigmaHQ rules, runs: $runs"
printf 'detection:   %10.0f events/s (%d alerts)\n' "$(printf '%s\n' "${detect[@]}" | median)" "$alerts"
printf 'no-detect:   %10.0f events/s\n' "$(printf '%s\n' "${nodetect[@]}" | median)"
d=$(printf '%s\n' "${detect[@]}" | median)
t=$(printf '%s\n' "${two[@]}" | median)
printf 'two threads: %10.0f events/s (%.2fx one thread)\n' "$t" "$(echo "$t / $d" | bc -l)"

LARGE_MIB=${LARGE_MIB:-200}
if [[ $LARGE_MIB != 0 ]]; then
  large=$data/large-$LARGE_MIB.evtx
  [[ -s $large ]] || /usr/bin/python3 "$here/bench/make_large_evtx.py" "$large" "$LARGE_MIB" "$shared/logs/evtx"
  inputs=("$large")
  one=(); two=()
  for ((i = 0; i < runs; i++)); do
    read -r rate records alerts < <(run 1); one+=("$rate")
    read -r rate _ two_alerts < <(run 2); two+=("$rate")
    if [[ $two_alerts != "$alerts" ]]; then
      echo "$(basename "$0"): two threads gave $two_alerts alerts on the large file, one thread $alerts" >&2
      exit 1
    fi
  done
  d=$(printf '%s\n' "${one[@]}" | median)
  t=$(printf '%s\n' "${two[@]}" | median)
  echo "one EVTX file of $LARGE_MIB MiB ($records records, $alerts alerts):"
  printf 'one thread:  %10.0f events/s\n' "$d"
  printf 'two threads: %10.0f events/s (%.2fx one thread)\n' "$t" "$(echo "$t / $d" | bc -l)"
fi
