#!/usr/bin/env bash
# Check benchmark (issue 4, 逢办必查): POST /api/v1/checks under wrk on loopback against
# SUBJECTS registered subjects with FRACTION of them listed, next to nginx serving a
# static JSON answer of the same size in the same run (the machine's practical ceiling).
#
# Usage: scripts/bench-checks.sh [SUBJECTS] [FRACTION]     (3000000 0.02)
# Environment: DURATION (20s), CONNS (64), SETUPS ("shared pinned"):
#   shared — wrk -t2 and the server both on every core (they compete);
#   pinned — wrk -t1 on CPU 0, the server alone on CPU 1.
# The data directory bench-out/checks/data-SUBJECTS is prepared once and reused.
# XINYONG_BIN: a built binary instead of this checkout's release build (to run two
# binaries side by side on the same data directory).
set -euo pipefail
cd "$(dirname "$0")/.."
subjects=${1:-3000000}
fraction=${2:-0.02}
duration=${DURATION:-20s}
conns=${CONNS:-64}
setups=${SETUPS:-shared pinned}
out=$PWD/bench-out/checks
# a store prepared elsewhere (scripts/bench-beijing.sh): its data directory, sampled
# codes and officer's token file
data=${BENCH_DATA:-$out/data-$subjects}
codes=${BENCH_CODES:-$out/codes-$subjects.txt}
officer=${BENCH_OFFICER:-$out/officer-$subjects.json}
port_x=18480
port_n=18481
bin=${XINYONG_BIN:-$PWD/target/release/xinyong}

missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v curl >/dev/null || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)

[ -n "${XINYONG_BIN:-}" ] || cargo build --release --locked -q -p xinyong
mkdir -p "$out"

# ---- data: SUBJECTS registrations, FRACTION of them listed, an officer's token ----------
if [ -z "${BENCH_DATA:-}" ] && [ ! -f "$data/.bench-ready" ]; then
  rm -rf "$data" "$out/gen-$subjects"
  t0=$(date +%s)
  "$bin" gen --subjects "$subjects" --records 0 --format csv --seed 4 --out "$out/gen-$subjects" >/dev/null
  t1=$(date +%s)
  "$bin" import "$out/gen-$subjects/registration.csv" --item registration --provider 北京市市场监督管理局 \
    --data "$data" >"$out/import-$subjects.json"
  t2=$(date +%s)
  "$bin" bench seed-listings --data "$data" --fraction "$fraction" --sample-out "$codes" --sample 100000 \
    >"$out/seed-$subjects.json"
  t3=$(date +%s)
  "$bin" user add --username bench-officer --role officer --provider 北京市财政局 --token --data "$data" \
    >"$officer"
  rm -rf "$out/gen-$subjects"
  echo "prepared $data: gen $((t1 - t0)) s, import $((t2 - t1)) s, listings $((t3 - t2)) s" | tee "$out/prepare-$subjects.txt"
  touch "$data/.bench-ready"
fi
token=$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["token"])' "$officer")
[ -n "${BENCH_DATA:-}" ] || cat "$out/seed-$subjects.json"

server_pid=
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}
trap stop_server EXIT

wait_http() { # URL: up to 30 minutes (the first start of a data dir builds the search index)
  for _ in $(seq 1 18000); do
    curl -fs -o /dev/null "$1" && return 0
    kill -0 "$server_pid" 2>/dev/null || { echo "server died" >&2; return 1; }
    sleep 0.1
  done
  return 1
}

rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

run_wrk() { # CPUS THREADS URL [lua args…]: prints the RESULT line
  local cpus=$1 threads=$2 url=$3
  shift 3
  local pin=()
  [ "$cpus" = all ] || pin=(taskset -c "$cpus")
  "${pin[@]}" wrk -t"$threads" -c"$conns" -d3s -s scripts/wrk/check.lua "$url" -- "$@" >/dev/null # warm-up
  "${pin[@]}" wrk -t"$threads" -c"$conns" -d"$duration" --latency -s scripts/wrk/check.lua "$url" -- "$@" \
    | tee -a "$out/wrk.log" | grep '^RESULT'
}

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

declare -A result
for setup in $setups; do
  case $setup in
    shared) wrk_cpus=all wrk_threads=2 srv_pin=() workers=auto ;;
    pinned) wrk_cpus=0 wrk_threads=1 srv_pin=(taskset -c 1) workers=1 ;;
    *) echo "unknown setup $setup" >&2; exit 2 ;;
  esac
  echo "== $setup: wrk -t$wrk_threads -c$conns -d$duration (cpus $wrk_cpus)" | tee -a "$out/wrk.log"

  # xinyong
  t0=$(date +%s.%N)
  "${srv_pin[@]}" "$bin" serve --data "$data" --listen 127.0.0.1:$port_x 2>"$out/serve-$setup.log" &
  server_pid=$!
  wait_http "http://127.0.0.1:$port_x/healthz"
  start_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
  # the grade book builds beside the server after it answers, reading the whole store:
  # checks are measured once it is built (its time is reported on its own)
  for _ in $(seq 1 18000); do
    grep -q "grade book rebuilt" "$out/serve-$setup.log" && break
    kill -0 "$server_pid" 2>/dev/null || { echo "server died" >&2; exit 1; }
    sleep 0.1
  done
  ready_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
  rss_idle=$(rss_kib "$server_pid")
  anon_idle=$(awk '/^RssAnon/ {print $2}' "/proc/$server_pid/status")
  # answer sizes over 400 codes of the sample (fixed draw): the typical (median) one sizes nginx's file
  sizes=$(shuf -n 400 --random-source=<(yes) "$codes" | while read -r c; do
    curl -s -o /dev/null -w '%{size_download}\n' -H "Authorization: Bearer $token" -H 'content-type: application/json' \
      -d "{\"code\":\"$c\",\"matter\":\"government_procurement\",\"purpose\":\"bench\"}" \
      "http://127.0.0.1:$port_x/api/v1/checks"
  done | sort -n)
  typical=$(sed -n "$(($(wc -l <<<"$sizes") / 2 + 1))p" <<<"$sizes")
  largest=$(tail -1 <<<"$sizes")
  rx=$(run_wrk "$wrk_cpus" "$wrk_threads" "http://127.0.0.1:$port_x" "$codes" "$token")
  rss_load=$(rss_kib "$server_pid")
  rss_peak=$(awk '/^VmHWM/ {print $2}' "/proc/$server_pid/status")
  stop_server
  echo "xinyong: started in ${start_s}s, grade book built at ${ready_s}s, RSS idle $((rss_idle / 1024)) MiB (anonymous $((anon_idle / 1024)) MiB), after load $((rss_load / 1024)) MiB, peak $((rss_peak / 1024)) MiB; answers: median $typical B, largest $largest B"

  # nginx: one static JSON file of the typical answer's size
  mkdir -p "$out/nginx/www" "$out/nginx/tmp"
  python3 - "$typical" "$out/nginx/www/check.json" <<'EOF'
import json, sys
n, path = int(sys.argv[1]), sys.argv[2]
base = json.dumps({"verdict": "clear", "lists": [], "measures": [], "pad": ""}, separators=(",", ":"))
with open(path, "w") as f:
    f.write(base.replace('"pad":""', '"pad":"' + "x" * max(0, n - len(base)) + '"'))
EOF
  cat >"$out/nginx/nginx.conf" <<EOF
daemon off;
user root;
pid $out/nginx/nginx.pid;
error_log $out/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  client_body_temp_path $out/nginx/tmp/body;
  proxy_temp_path $out/nginx/tmp/proxy;
  fastcgi_temp_path $out/nginx/tmp/fastcgi;
  uwsgi_temp_path $out/nginx/tmp/uwsgi;
  scgi_temp_path $out/nginx/tmp/scgi;
  server {
    listen 127.0.0.1:$port_n;
    location / { root $out/nginx/www; default_type application/json; }
  }
}
EOF
  "${srv_pin[@]}" "$nginx_bin" -c "$out/nginx/nginx.conf" -g "worker_processes $workers;" &
  server_pid=$!
  wait_http "http://127.0.0.1:$port_n/check.json"
  rn=$(run_wrk "$wrk_cpus" "$wrk_threads" "http://127.0.0.1:$port_n/check.json")
  stop_server

  result[$setup]="$rx|$rn|$typical"
done

echo
echo "| setup | server | requests/s | p50 ms | p99 ms | non-2xx | xinyong/nginx |"
echo "|---|---|---|---|---|---|---|"
for setup in $setups; do
  IFS='|' read -r rx rn size <<<"${result[$setup]}"
  ratio=$(awk -v a="$(field rps "$rx")" -v b="$(field rps "$rn")" 'BEGIN {printf "%.2f", a / b}')
  echo "| $setup | xinyong POST /api/v1/checks | $(field rps "$rx") | $(field p50_ms "$rx") | $(field p99_ms "$rx") | $(field non2xx "$rx") | **$ratio** |"
  echo "| $setup | nginx GET static ${size} B | $(field rps "$rn") | $(field p50_ms "$rn") | $(field p99_ms "$rn") | $(field non2xx "$rn") | |"
done
