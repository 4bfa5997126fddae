#!/usr/bin/env bash
# Intake into PostgreSQL (issue 5): generate N records, import them with
# `xinyong import --database` into a fresh schema, and in the same run import the same
# files into SQLite (`xinyong import`, the embedded back end) and load them with a bare
# `COPY … FROM STDIN (FORMAT csv)` into unindexed all-text tables (the peer: parsing and
# inserting only, no validation, no ledger, no indexes). Then `ledger verify` on both.
# Usage: scripts/bench-pg.sh [RECORDS] [SUBJECTS]   (defaults 1000000 100000)
# The server: XINYONG_PG_URL (default postgres://postgres@127.0.0.1:5432/test); needs psql.
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-1000000}
subjects=${2:-100000}
base=${XINYONG_PG_URL:-postgres://postgres@127.0.0.1:5432/test}
out=bench-out/pg
rm -rf "$out" && mkdir -p "$out"
command -v psql >/dev/null || { echo "needs psql (apt-get install postgresql-client)"; exit 1; }
cargo build --release --locked -q
bin=target/release/xinyong
now() { date +%s.%N; }
schema=bench_pg_$$
peer=bench_copy_$$
url="$base?options=-csearch_path%3D$schema"
cleanup() { psql -q "$base" -c "DROP SCHEMA IF EXISTS $schema CASCADE; DROP SCHEMA IF EXISTS $peer CASCADE" >/dev/null 2>&1 || true; }
trap cleanup EXIT

t0=$(now)
$bin gen --subjects "$subjects" --records "$records" --seed 1 --format csv --out "$out/gen" >/dev/null
t1=$(now)
rows=$(cat "$out"/gen/*.csv | wc -l); files=$(ls "$out"/gen/*.csv | wc -l); rows=$((rows - files))
bytes=$(cat "$out"/gen/*.csv | wc -c)
echo "generated $rows rows ($((bytes / 1048576)) MiB) in $(echo "$t1 - $t0" | bc) s"

import_all() { # data-dir [database-url]
  local t0 t1
  t0=$(now)
  for f in "$out"/gen/*.csv; do
    item=$(basename "$f" .csv)
    $bin import "$f" --item "$item" --provider bench --data "$1" ${2:+--database "$2"} > "$out/$(basename "$1")-$item.json"
  done
  t1=$(now)
  echo "$t1 - $t0" | bc
}

pg_secs=$(import_all "$out/pgdata" "$url")
echo "xinyong → PostgreSQL: $pg_secs s"
sq_secs=$(import_all "$out/sqlite")
echo "xinyong → SQLite: $sq_secs s"

# peer: one all-text table per file, columns from the CSV header, bare COPY
psql -q "$base" -c "CREATE SCHEMA $peer" >/dev/null
t0=$(now)
for f in "$out"/gen/*.csv; do
  item=$(basename "$f" .csv)
  cols=$(head -1 "$f" | sed 's/^\xEF\xBB\xBF//' | python3 -c 'import sys,csv; print(", ".join("\"%s\" text" % c for c in next(csv.reader(sys.stdin))))')
  psql -q "$base" -c "CREATE TABLE $peer.$item ($cols)" >/dev/null
  psql -q "$base" -c "\\copy $peer.$item FROM '$f' (FORMAT csv, HEADER true)" >/dev/null
done
t1=$(now)
copy_secs=$(echo "$t1 - $t0" | bc)
echo "bare COPY: $copy_secs s"

t0=$(now); $bin ledger verify --data "$out/pgdata" --database "$url" > "$out/verify-pg.json"; t1=$(now)
vpg=$(echo "$t1 - $t0" | bc)
t0=$(now); $bin ledger verify --data "$out/sqlite" > "$out/verify-sqlite.json"; t1=$(now)
vsq=$(echo "$t1 - $t0" | bc)
size=$(python3 -c 'import json; d=json.load(open("'"$out"'/verify-pg.json")); assert d["ok"], d; print(d["size"])')
python3 -c 'import json; d=json.load(open("'"$out"'/verify-sqlite.json")); assert d["ok"], d'
pg_mb=$(psql -Atq "$base" -c "SELECT sum(pg_total_relation_size(c.oid)) / 1048576 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '$schema' AND c.relkind = 'r'")
peer_mb=$(psql -Atq "$base" -c "SELECT sum(pg_total_relation_size(c.oid)) / 1048576 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '$peer' AND c.relkind = 'r'")
sq_mb=$(du -sm "$out/sqlite" | cut -f1)

echo
echo "| measure | value |"
echo "|---|---|"
echo "| rows imported (all items) | $rows |"
echo "| xinyong → PostgreSQL | ${pg_secs} s, $(echo "$rows / $pg_secs" | bc) rows/s |"
echo "| xinyong → SQLite | ${sq_secs} s, $(echo "$rows / $sq_secs" | bc) rows/s |"
echo "| bare COPY into unindexed text tables (peer) | ${copy_secs} s, $(echo "$rows / $copy_secs" | bc) rows/s |"
echo "| PostgreSQL / peer throughput | $(echo "scale=2; $copy_secs / $pg_secs" | bc) |"
echo "| PostgreSQL / SQLite throughput | $(echo "scale=2; $sq_secs / $pg_secs" | bc) |"
echo "| ledger events | $size |"
echo "| ledger verify, PostgreSQL | ${vpg} s |"
echo "| ledger verify, SQLite | ${vsq} s |"
echo "| size: PostgreSQL schema / SQLite directory / peer tables | ${pg_mb} / ${sq_mb} / ${peer_mb} MiB |"
