#!/usr/bin/env bash
# Two binaries side by side, same machine, same run: intake (scripts/bench-intake.sh)
# and checks (scripts/bench-checks.sh, the same prepared data directory), alternating
# OLD, NEW, OLD, NEW so drift of a shared machine falls on both.
# Usage: scripts/bench-compare.sh OLD_BIN NEW_BIN [RECORDS] [SUBJECTS] [CHECK_SUBJECTS]
#   (defaults 300000 30000 300000); DURATION, CONNS, SETUPS as for bench-checks.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
old=$(realpath "$1") new=$(realpath "$2")
records=${3:-300000} subjects=${4:-30000} check_subjects=${5:-300000}
out=bench-out/compare
mkdir -p "$out"
for round in ${INTAKE_ROUNDS-1 2}; do  # INTAKE_ROUNDS="" skips intake
  for which in old new; do
    bin=$old; [ $which = new ] && bin=$new
    echo "== intake round $round: $which ($bin)"
    XINYONG_BIN=$bin BENCH_OUT=bench-out/intake-$which bash scripts/bench-intake.sh "$records" "$subjects" \
      | tee "$out/intake-$which-$round.txt" | grep -E 'rows/s|peer throughput'
  done
done
# the check data is prepared once (by the first binary to run) and served by each in
# turn, each run from an emptied check log (a growing log would favour whoever runs first)
data=bench-out/checks/data-$check_subjects
for round in 1 2 3; do
  for which in old new; do
    bin=$old; [ $which = new ] && bin=$new
    if [ -f "$data/xinyong.sqlite3" ]; then
      sqlite3 "$data/xinyong.sqlite3" "DELETE FROM checks; DELETE FROM check_subjects; DELETE FROM meta WHERE k LIKE 'check_subjects%'; VACUUM;"
    fi
    echo "== checks round $round: $which ($bin)"
    XINYONG_BIN=$bin bash scripts/bench-checks.sh "$check_subjects" | tee "$out/checks-$which-$round.txt" | grep -E '^\|'
  done
done
