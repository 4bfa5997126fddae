#!/usr/bin/env bash
# The server's memory at Beijing's size (issue 16: ≤ 2 GiB whatever it does), without the
# three hours of a full intake: the grading fixture writes a store of SUBJECTS subjects,
# RECORDS records and LISTINGS list entries (most shaped like the ones intake derives:
# the record, the rule, the court's document numbers, a responsible person by resident
# ID) straight into SQLite, then
#   1. `xinyong bench grading --runs 1` on it: every subject by every model against
#      sqlite3 GROUP BY, and the peak RSS of that process;
#   2. the check benchmark (scripts/bench-checks.sh, shared setup) twice: a first start
#      (it builds the search index) and a second one; each reports start-up, the grade
#      book, RSS idle / after load / peak, and checks against nginx;
#   3. a day's files imported beside a running server (another start): DAILY_SUBJECTS
#      new registrations and DAILY_RECORDS records (20 000 / 50 000); the server regrades
#      their subjects one by one, or grades the whole store again beside the book it
#      keeps, whichever it reckons cheaper; reports the import's rate, when the book
#      caught up with the ledger, and the server's RSS before and at its peak from the
#      import on (VmHWM reset at the import).
# IMPORT_ONLY=NAME: step 3 alone, on the store an earlier run left (a new day's files).
# OLD_BIN=path: the same steps 1 and 2 (second start) with another binary, after ours,
# on the same store (memory of two builds compared in one run).
# Usage: scripts/bench-memory.sh [SUBJECTS] [RECORDS] [LISTINGS]   (3000000 30000000 3000000)
# Writes bench-out/memory (or BENCH_OUT); the store takes about 15 GB at the default size.
set -euo pipefail
cd "$(dirname "$0")/.."
subjects=${1:-3000000}
records=${2:-30000000}
listings=${3:-3000000}
out=${BENCH_OUT:-$PWD/bench-out/memory}
if [ -n "${XINYONG_BIN:-}" ]; then bin=$XINYONG_BIN; else cargo build --release --locked -q -p xinyong; bin=$PWD/target/release/xinyong; fi
mkdir -p "$out"
store=$out/store-$subjects-$records-$listings

grading() { # NAME BIN [ARGS…]: prints a summary line of `bench grading`
  local name=$1 b=$2
  shift 2
  "$b" bench grading --subjects "$subjects" --records "$records" "$@" --runs 1 --work "$store" \
    >"$out/grading-$name.json"
  python3 - "$out/grading-$name.json" "$name" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
g, p = d["grade_all_ms"], d["peer_sqlite3_group_by_ms"]
print(f"{sys.argv[2]}: grade_all {g['min'] / 1000:.1f} s (scan {g['last_run_parts']['scan'] / 1000:.1f} s), "
      f"peer {p['min'] / 1000:.1f} s, ours/peer {d['ratio_ours_to_peer_min']}, peak RSS {d['peak_rss_mib']} MiB")
EOF
}

checks() { # NAME BIN
  BENCH_DATA=$store BENCH_CODES=$out/codes.txt BENCH_OFFICER=$out/officer.json XINYONG_BIN=$2 SETUPS=shared \
    scripts/bench-checks.sh "$subjects" >"$out/checks-$1.txt" 2>&1
  grep -h "^xinyong:\|^| shared" "$out/checks-$1.txt" | sed "s/^/$1 /"
  grep -h "check index loaded\|grade book rebuilt" bench-out/checks/serve-shared.log | sed "s/^/$1 /"
}

import_beside() { # NAME BIN
  # each run its own day (a file imported again would only be duplicates)
  local b=$2 log=$out/serve-import-$1.log daily=$out/daily-$1 port=18093 seed
  seed=$(cksum <<<"$1" | cut -d' ' -f1)
  [ -f "$daily/manifest.json" ] ||
    "$b" gen --subjects "${DAILY_SUBJECTS:-20000}" --records "${DAILY_RECORDS:-50000}" --seed "$seed" --format csv \
      --out "$daily" >/dev/null
  "$b" serve --data "$store" --listen 127.0.0.1:$port 2>"$log" &
  local pid=$!
  until [ "$(grep -c "grade book rebuilt" "$log")" -ge 1 ]; do
    kill -0 "$pid" 2>/dev/null || { echo "server died" >&2; return 1; }
    sleep 0.5
  done
  local before
  before=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status")
  echo 5 >"/proc/$pid/clear_refs" # VmHWM from here on
  (while kill -0 "$pid" 2>/dev/null; do
    echo "$(date +%s.%N) $(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null)"
    sleep 0.5
  done) >"$out/rss-import-$1.txt" &
  local tracer=$! t0 t1 t2 rows=0
  t0=$(date +%s.%N)
  # registrations first: the records name the subjects they create
  for f in $(python3 -c "import json,sys; [print(f['item'], f['file']) for f in json.load(open(sys.argv[1]))['files']]" \
    "$daily/manifest.json" | tr ' ' ':'); do
    "$b" import "$daily/${f#*:}" --item "${f%%:*}" --provider 北京市市场监督管理局 --data "$store" >/dev/null
  done
  t1=$(date +%s.%N)
  rows=$(python3 -c "import json,sys; print(sum(f['rows'] for f in json.load(open(sys.argv[1]))['files']))" "$daily/manifest.json")
  # the book has caught up when its ledger size reaches the head's (regraded in place
  # or graded again, as the server decides); 30 minutes at most
  local token size=0 graded=-1 caught=no
  token=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$out/officer.json")
  size=$(curl -s "http://127.0.0.1:$port/api/v1/ledger/head" | python3 -c 'import json,sys; print(json.load(sys.stdin)["head"]["head"]["size"])')
  for _ in $(seq 1 900); do
    kill -0 "$pid" 2>/dev/null || { echo "server died" >&2; return 1; }
    graded=$(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/grading/figures" |
      python3 -c 'import json,sys; print(json.load(sys.stdin).get("ledger_size", -1))' 2>/dev/null || echo -1)
    [ "$graded" -ge "$size" ] && { caught=yes; break; }
    sleep 2
  done
  t2=$(date +%s.%N)
  local peak
  peak=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
  kill "$pid" "$tracer" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  awk -v n="$1" -v r="$rows" -v a="$t0" -v b="$t1" -v c="$t2" -v x="$before" -v p="$peak" 'BEGIN {
    printf "%s import beside the server: %d rows in %.1f s (%.0f rows/s); book caught up %.1f s after; RSS before %d MiB, peak from the import on %d MiB\n",
      n, r, b - a, r / (b - a), c - b, x / 1024, p / 1024 }'
  echo "$1 book caught up with the ledger: $caught (book at $graded of $size events)"
  grep -h "grade book rebuilt\|grade book regraded" "$log" | sed "s/^/$1 /"
}

echo "memory at $subjects subjects, $records records, $listings list entries; $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB" |
  tee "$out/summary.md"
if [ -n "${IMPORT_ONLY:-}" ]; then # step 3 alone, on the store of an earlier run, as IMPORT_ONLY
  import_beside "$IMPORT_ONLY" "$bin" | tee -a "$out/summary.md"
  exit
fi
grading ours "$bin" --listings "$listings" | tee -a "$out/summary.md"
[ -f "$out/codes.txt" ] ||
  "$bin" bench seed-listings --data "$store" --fraction 0 --sample-out "$out/codes.txt" --sample 100000 >/dev/null
[ -f "$out/officer.json" ] ||
  "$bin" user add --username bench-officer --role officer --provider 北京市财政局 --token --data "$store" \
    >"$out/officer.json"
rm -rf "$store/search"
checks first "$bin" | tee -a "$out/summary.md"
checks second "$bin" | tee -a "$out/summary.md"
import_beside ours "$bin" | tee -a "$out/summary.md"
if [ -n "${OLD_BIN:-}" ]; then
  grading old "$OLD_BIN" | tee -a "$out/summary.md"
  checks old-second "$OLD_BIN" | tee -a "$out/summary.md"
fi
