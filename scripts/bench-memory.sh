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
#      book, RSS idle / after load / peak, and checks against nginx.
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

echo "memory at $subjects subjects, $records records, $listings list entries; $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB" |
  tee "$out/summary.md"
grading ours "$bin" --listings "$listings" | tee -a "$out/summary.md"
[ -f "$out/codes.txt" ] ||
  "$bin" bench seed-listings --data "$store" --fraction 0 --sample-out "$out/codes.txt" --sample 100000 >/dev/null
[ -f "$out/officer.json" ] ||
  "$bin" user add --username bench-officer --role officer --provider 北京市财政局 --token --data "$store" \
    >"$out/officer.json"
rm -rf "$store/search"
checks first "$bin" | tee -a "$out/summary.md"
checks second "$bin" | tee -a "$out/summary.md"
if [ -n "${OLD_BIN:-}" ]; then
  grading old "$OLD_BIN" | tee -a "$out/summary.md"
  checks old-second "$OLD_BIN" | tee -a "$out/summary.md"
fi
