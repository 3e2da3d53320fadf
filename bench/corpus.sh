# Sourced by the end-to-end benchmarks: the standard corpus and the active SigmaHQ rules.
# Expects `here` (the checkout); sets `shared`, `data`, `corpus` and the array `rules`, or exits
# 0 with a message when the shared data is absent. EVENTS (default 100000) sizes the corpus.
# CORPUS_IN_MEMORY=1 reads a copy in /dev/shm (memory-backed): a host that reclaims the page
# cache between runs otherwise has some runs read the corpus from disk (docs/benchmarks.md).
# The alerts then name that copy's path.
shared=$here/../shared/data
events=${EVENTS:-100000}
data=$here/bench/data
mkdir -p "$data"
corpus=$data/corpus-$events.jsonl
if [[ ! -d $shared/sigma/sigmahq ]]; then
  echo "$(basename "$0"): shared data not found at $shared; nothing to measure" >&2
  exit 0
fi
if [[ ! -s $corpus ]]; then
  python3 "$shared/sigma/bench/gen_synthetic_events.py" "$events" "$corpus" --seed 42 \
    --inject "$shared/sigma/regression/jsonl" --every 400 >/dev/null
fi
if [[ $events -eq 100000 ]]; then
  sum=$(sha256sum "$corpus" | cut -c1-16)
  [[ $sum == 04f76afa8a646b8e ]] || { echo "corpus checksum $sum is not the standard corpus" >&2; exit 1; }
fi
if [[ -n ${CORPUS_IN_MEMORY:-} ]]; then
  if [[ ! -d /dev/shm ]]; then
    echo "$(basename "$0"): CORPUS_IN_MEMORY is set but there is no /dev/shm" >&2
    exit 1
  fi
  in_memory=/dev/shm/yagura-bench-$(basename "$corpus")
  if ! cmp -s "$corpus" "$in_memory"; then
    cp "$corpus" "$in_memory.tmp" && mv "$in_memory.tmp" "$in_memory"
  fi
  corpus=$in_memory
fi
rules=()
for d in rules rules-emerging-threats rules-threat-hunting rules-placeholder rules-compliance; do
  rules+=(--rules "$shared/sigma/sigmahq/$d")
done
