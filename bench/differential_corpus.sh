#!/usr/bin/env bash
# The compiled matcher against the plain evaluator over the whole standard corpus, with every
# active SigmaHQ rule: the two alert files must be byte-identical. (The unit-level differential
# test covers a 5,000-event corpus; the plain evaluator needs about 1.5 ms per event, so the full
# 100,000 events take a few minutes and live here rather than in the unit suite.)
#
# usage: bench/differential_corpus.sh [BUILD_DIR]    (env: EVENTS=100000, THREADS=2)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
threads=${THREADS:-2}
# shellcheck source=bench/corpus.sh
source "$here/bench/corpus.sh"
for engine in compiled plain; do
  "$build/yagura" scan --quiet --no-cache --threads "$threads" --engine "$engine" "${rules[@]}" \
    --output "$data/differential-$engine.jsonl" "$corpus"
done
if cmp -s "$data/differential-compiled.jsonl" "$data/differential-plain.jsonl"; then
  echo "differential: $(wc -l <"$data/differential-compiled.jsonl") alerts, identical from both engines"
else
  echo "differential: the engines disagree:" >&2
  diff <(cut -c1-200 "$data/differential-compiled.jsonl") <(cut -c1-200 "$data/differential-plain.jsonl") | head -20 >&2
  exit 1
fi
