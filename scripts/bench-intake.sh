#!/usr/bin/env bash
# Intake benchmark (issue 2): generate N records, import them with `xinyong import`,
# and in the same run load the same CSV files with `sqlite3 .import` into bare tables
# (the peer: parsing and inserting only, no validation, no ledger, no indexes).
# Usage: scripts/bench-intake.sh [RECORDS] [SUBJECTS]   (defaults 1000000 100000)
# Environment: XINYONG_BIN (a built binary instead of this checkout's release build),
#   BENCH_OUT (the work directory, default bench-out/intake) — to run two binaries side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-1000000}
subjects=${2:-100000}
out=${BENCH_OUT:-bench-out/intake}
rm -rf "$out" && mkdir -p "$out"
command -v sqlite3 >/dev/null || { echo "needs sqlite3 (apt-get install sqlite3)"; exit 1; }
if [ -n "${XINYONG_BIN:-}" ]; then
  bin=$XINYONG_BIN
else
  cargo build --release --locked -q
  bin=target/release/xinyong
fi
now() { date +%s.%N; }

t0=$(now)
$bin gen --subjects "$subjects" --records "$records" --seed 1 --format csv --out "$out/gen" >/dev/null
t1=$(now)
rows=$(cat "$out"/gen/*.csv | wc -l); files=$(ls "$out"/gen/*.csv | wc -l); rows=$((rows - files))
bytes=$(cat "$out"/gen/*.csv | wc -c)
echo "generated $rows rows ($((bytes / 1048576)) MiB) in $(echo "$t1 - $t0" | bc) s"

# xinyong: every file, one process each; peak RSS is the largest of the processes.
peak=0; t0=$(now)
for f in "$out"/gen/*.csv; do
  item=$(basename "$f" .csv)
  /usr/bin/time -f "%M" -o "$out/rss" $bin import "$f" --item "$item" --provider bench --data "$out/data" > "$out/$item.json"
  rss=$(cat "$out/rss"); [ "$rss" -gt "$peak" ] && peak=$rss
done
t1=$(now)
x_secs=$(echo "$t1 - $t0" | bc)
accepted=$(cat "$out"/*.json | python3 -c 'import sys,json; t=sys.stdin.read(); d=json.JSONDecoder(); i=0; n=0
while i < len(t):
    while i < len(t) and t[i].isspace(): i+=1
    if i>=len(t): break
    o,i=d.raw_decode(t,i); n+=o["accepted"]
print(n)')

# peer: sqlite3 .import of the same files into fresh tables
t0=$(now)
for f in "$out"/gen/*.csv; do
  item=$(basename "$f" .csv)
  sqlite3 "$out/peer.db" -cmd "PRAGMA journal_mode=WAL" -cmd "PRAGMA synchronous=FULL" ".import --csv $f $item" >/dev/null
done
t1=$(now)
p_secs=$(echo "$t1 - $t0" | bc)

t0=$(now)
/usr/bin/time -f "%M" -o "$out/rss-verify" $bin ledger verify --data "$out/data" > "$out/verify.json"
t1=$(now)
v_secs=$(echo "$t1 - $t0" | bc)
size=$(python3 -c 'import json; print(json.load(open("'"$out"'/verify.json"))["size"])')

db_mb=$(du -sm "$out/data" | cut -f1)
echo
echo "| measure | value |"
echo "|---|---|"
echo "| rows imported (all items) | $rows |"
echo "| accepted | $accepted |"
echo "| xinyong import time | ${x_secs} s |"
echo "| xinyong rows/s | $(echo "$rows / $x_secs" | bc) |"
echo "| sqlite3 .import time (peer) | ${p_secs} s |"
echo "| sqlite3 .import rows/s | $(echo "$rows / $p_secs" | bc) |"
echo "| xinyong / peer throughput | $(echo "scale=2; $p_secs / $x_secs" | bc) |"
echo "| peak RSS of an import | $((peak / 1024)) MiB |"
echo "| ledger events | $size |"
echo "| ledger verify | ${v_secs} s ($(( $(cat "$out/rss-verify") / 1024 )) MiB peak) |"
echo "| data directory | ${db_mb} MiB |"
