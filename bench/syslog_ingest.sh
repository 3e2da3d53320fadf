#!/usr/bin/env bash
# Sustained syslog over TCP on loopback: Yagura (spool on disk, detection on with the project's
# rules, correlation included) against rsyslog (Debian's package, started here on another port,
# writing the same stream to a file). Both receive MESSAGES newline-framed RFC 3164 messages
# (a loghub file repeated, with a PRI) over one connection. STREAM picks the file: `attack`
# (OpenSSH_2k.log: a brute-force campaign, 57% of the messages raise an alert, so storing
# alerts dominates) or `quiet` (Mac_2k.log: ordinary system messages, no alert, so the rate is
# that of ingest and detection). The rate is messages / seconds
# from the first byte sent until the last message is written (rsyslog) or analysed (Yagura).
# Yagura's ingest-only rate (until the spool holds everything) and the peak resident memory of
# both are printed too.
#
# With OVERLOAD=SECONDS it instead sends as fast as it can for that long and samples Yagura's
# resident memory every 10 s, to show that memory stays bounded when senders outrun detection.
#
# usage: bench/syslog_ingest.sh [BUILD_DIR]
#   env: MESSAGES=2000000 STREAM=attack|quiet FSYNC=always|interval|never OVERLOAD=0
#        SPOOL_MAX_BYTES=8589934592
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
messages=${MESSAGES:-2000000}
fsync=${FSYNC:-always}
overload=${OVERLOAD:-0}
stream=${STREAM:-attack}
case $stream in
  attack) source_log=$here/../shared/data/logs/loghub/OpenSSH_2k.log ;;
  quiet) source_log=$here/../shared/data/logs/loghub/Mac_2k.log ;;
  *) echo "STREAM must be attack or quiet"; exit 2 ;;
esac
[[ -f $source_log ]] || { echo "SKIP: $source_log is absent"; exit 0; }
command -v rsyslogd >/dev/null || { echo "rsyslogd is missing: run scripts/setup"; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
py=/usr/bin/python3
free_port() { $py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
peak_rss_mb() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }

# The stream: the log repeated to MESSAGES lines, each with PRI 38 (auth.info).
$py - "$source_log" "$messages" "$work/stream" <<'EOF'
import sys
lines = [f"<38>{l}\n" for l in open(sys.argv[1], encoding="utf-8", errors="replace").read().splitlines()]
n = int(sys.argv[2])
with open(sys.argv[3], "w") as out:
    full, rest = divmod(n, len(lines))
    block = "".join(lines)
    for _ in range(full):
        out.write(block)
    out.write("".join(lines[:rest]))
EOF
stream_bytes=$(stat -c %s "$work/stream")
send() {  # send PORT: the whole stream over one connection
  $py - "$1" "$work/stream" <<'EOF'
import socket, sys
data = open(sys.argv[2], "rb").read()
with socket.create_connection(("127.0.0.1", int(sys.argv[1]))) as s:
    view = memoryview(data)
    for i in range(0, len(view), 1 << 20):
        s.sendall(view[i:i + (1 << 20)])
EOF
}

# --- rsyslog --------------------------------------------------------------------------------
rport=$(free_port)
mkdir -p "$work/rsyslog"
cat >"$work/rsyslog.conf" <<EOF
global(workDirectory="$work/rsyslog")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="$rport")
template(name="raw" type="string" string="%rawmsg%\n")
action(type="omfile" file="$work/rsyslog/out.log" template="raw" asyncWriting="on" ioBufferSize="1m")
EOF
rsyslogd -n -f "$work/rsyslog.conf" -i "$work/rsyslog.pid" 2>"$work/rsyslog.err" &
rsyslog_pid=$!
pids+=("$rsyslog_pid")
for _ in $(seq 100); do $py -c "import socket; socket.create_connection(('127.0.0.1',$rport)).close()" 2>/dev/null && break; sleep 0.1; done
rsyslog_rate=""
if [[ $overload == 0 ]]; then
  expected=$((stream_bytes - messages * 4))  # rsyslog writes the message without its PRI
  start=$(date +%s.%N)
  send "$rport"
  while :; do
    size=$(stat -c %s "$work/rsyslog/out.log" 2>/dev/null || echo 0)
    (( size >= expected )) && break
    sleep 0.05
  done
  end=$(date +%s.%N)
  rsyslog_seconds=$(echo "$end - $start" | bc -l)
  rsyslog_rate=$(echo "$messages / $rsyslog_seconds" | bc -l)
  printf 'rsyslog (%s stream): %d messages in %.2f s = %.0f messages/s, peak RSS %s MB\n' \
    "$stream" "$messages" "$rsyslog_seconds" "$rsyslog_rate" "$(peak_rss_mb "$rsyslog_pid")"
fi
kill "$rsyslog_pid"; wait "$rsyslog_pid" 2>/dev/null || true

# --- Yagura ---------------------------------------------------------------------------------
yport=$(free_port)
mkdir -p "$work/data"
cat >"$work/data/yagura.yml" <<EOF
spool_fsync: $fsync
spool_max_bytes: ${SPOOL_MAX_BYTES:-8589934592}
syslog_senders:
  - match: 127.0.0.1
    org: National Cyber Defence Centre
    logsource: product=linux,service=sshd
    name: bench
EOF
YAGURA_ADMIN_PASSWORD='bench password 123' "$build/yagura" serve --init --data "$work/data" \
  --listen 127.0.0.1:0 --syslog-tcp "127.0.0.1:$yport" >"$work/serve.out" 2>"$work/serve.err" &
serve_pid=$!
pids+=("$serve_pid")
url=
for _ in $(seq 600); do
  url=$(sed -n 's/^Yagura is serving .* on \(https\?:\/\/[^ ]*\)$/\1/p' "$work/serve.out")
  [[ -n $url ]] && grep -q "Live monitoring" "$work/serve.out" && break
  sleep 0.1
done
[[ -n $url ]] || { cat "$work/serve.out" "$work/serve.err"; exit 1; }
metric() { curl -s "$url/metrics" | awk -v name="$1" '$1 ~ "^"name"({|$)" {sum += $2} END {printf "%.0f", sum}'; }

if [[ $overload != 0 ]]; then
  # Resident memory is shown as anonymous (heap: what could grow without bound) and file-backed
  # (the SQLite store's memory map, at most 1 GiB, and page cache the kernel can reclaim).
  echo "overload: sending for $overload s; every 10 s: RSS of yagura serve (anonymous + file-backed, MB), spooled, analysed"
  ( end=$((SECONDS + overload)); while (( SECONDS < end )); do send "$yport" || true; done ) &
  sender=$!
  pids+=("$sender")
  for _ in $(seq $((overload / 10))); do
    sleep 10
    printf '%s MB (%s + %s)  spooled %s  analysed %s\n' "$(awk '/VmRSS/ {printf "%.0f", $2/1024}' /proc/$serve_pid/status)" \
      "$(awk '/RssAnon/ {printf "%.0f", $2/1024}' /proc/$serve_pid/status)" \
      "$(awk '/RssFile/ {printf "%.0f", $2/1024}' /proc/$serve_pid/status)" \
      "$(metric yagura_syslog_messages_total)" "$(metric yagura_detector_events_total)"
  done
  wait "$sender" 2>/dev/null || true
  printf 'peak RSS %s MB\n' "$(peak_rss_mb "$serve_pid")"
  exit 0
fi

start=$(date +%s.%N)
send "$yport"
ingested_at=
while :; do
  now=$(date +%s.%N)
  if [[ -z $ingested_at ]] && (( $(metric yagura_syslog_messages_total) >= messages )); then ingested_at=$now; fi
  (( $(metric yagura_detector_events_total) >= messages )) && break
  sleep 0.05
done
end=$(date +%s.%N)
ingested_at=${ingested_at:-$end}
seconds=$(echo "$end - $start" | bc -l)
ingest_seconds=$(echo "$ingested_at - $start" | bc -l)
rate=$(echo "$messages / $seconds" | bc -l)
printf 'yagura (%s stream, spool fsync %s): %d messages spooled in %.2f s = %.0f messages/s; analysed in %.2f s = %.0f messages/s; %s alerts stored; peak RSS %s MB\n' \
  "$stream" "$fsync" "$messages" "$ingest_seconds" "$(echo "$messages / $ingest_seconds" | bc -l)" "$seconds" "$rate" \
  "$(metric yagura_alerts_stored_total)" "$(peak_rss_mb "$serve_pid")"
printf 'ratio yagura / rsyslog: %.2f (target >= 1)\n' "$(echo "$rate / $rsyslog_rate" | bc -l)"
