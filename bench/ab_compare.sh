#!/usr/bin/env bash
# Two or more builds of `yagura` compared on the same input, run in turns, one thread on one
# core, with every active SigmaHQ rule: for each binary the best, median and worst events/s of
# ROUNDS runs, and whether their alerts were byte-identical to the first binary's.
#
# On a shared virtual machine the rate of one run moves by 5-15% from one minute to the next;
# runs in turns see the same slow and fast minutes, and the best of many runs is the steadiest
# figure (see docs/benchmarks.md). Changes below about 5% still do not show.
#
# usage: bench/ab_compare.sh BINARY BINARY... (env: ROUNDS=8, INPUT=json|evtx, CPU=1, CORPUS_IN_MEMORY=)
#   INPUT=json: the standard corpus; INPUT=evtx: the EVTX samples, each read five times.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
if [[ $# -lt 2 ]]; then
  sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
rounds=${ROUNDS:-8}
cpu=${CPU:-1}
# shellcheck source=bench/corpus.sh
source "$here/bench/corpus.sh"
inputs=()
case ${INPUT:-json} in
  json) inputs=("$corpus") ;;
  evtx)
    mapfile -t files < <(find "$shared/logs/evtx" -name '*.evtx' | sort)
    if [[ ${#files[@]} -eq 0 ]]; then
      echo "$(basename "$0"): no EVTX files under $shared/logs/evtx; nothing to measure" >&2
      exit 0
    fi
    for ((i = 0; i < 5; i++)); do inputs+=("${files[@]}"); done
    ;;
  *) echo "$(basename "$0"): INPUT must be json or evtx" >&2; exit 2 ;;
esac
binaries=("$@")
for bin in "${binaries[@]}"; do
  [[ -x $bin ]] || { echo "$(basename "$0"): $bin is not an executable" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

run() {  # run INDEX -> events/s; alerts in $work/alerts-INDEX
  local bin=${binaries[$1]}
  taskset -c "$cpu" "$bin" scan --quiet "${rules[@]}" --cache-dir "$data/cache" --threads 1 \
    --summary-json "$work/summary.json" -o "$work/alerts-$1" "${inputs[@]}" 2>/dev/null || true
  /usr/bin/python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["events_per_second"]))' \
    "$work/summary.json"
}

for ((b = 0; b < ${#binaries[@]}; b++)); do run "$b" >/dev/null; done  # warm caches
declare -A rates
for ((r = 0; r < rounds; r++)); do
  for ((b = 0; b < ${#binaries[@]}; b++)); do rates[$b]+=" $(run "$b")"; done
done
echo "input: ${INPUT:-json}, ${#inputs[@]} file(s); $rounds rounds on CPU $cpu"
for ((b = 0; b < ${#binaries[@]}; b++)); do
  same=identical
  cmp -s "$work/alerts-0" "$work/alerts-$b" || same=DIFFERENT
  # shellcheck disable=SC2086
  printf '%s\n' ${rates[$b]} | sort -n | awk -v name="${binaries[$b]}" -v same="$same" \
    '{a[NR] = $1} END {printf "%-40s best %8d  median %8d  worst %8d events/s, alerts %s\n", name, a[NR], a[int((NR + 1) / 2)], a[1], same}'
done
