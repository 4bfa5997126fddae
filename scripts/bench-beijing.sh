#!/usr/bin/env bash
# Beijing on one machine (issue 16): 3 M entities and 30 M records over every catalog
# item, imported as daily files in the order departments would send them, then the
# server on that store. Reports, in bench-out/beijing (or BENCH_OUT):
#   intake.tsv / intake-rate.svg  rows/s of every daily file against the store's size
#   summary.md                    totals against `sqlite3 .import` of the same files (the
#                                 peer), the rate into the full store against the empty
#                                 one, disk, peak RSS of an import, `ledger verify`
#                                 against raw SHA-256 over the same event bytes, then the
#                                 check benchmark (scripts/bench-checks.sh: server start,
#                                 RSS, wrk against nginx) and the name search benchmark on
#                                 the store's names.
# Usage: scripts/bench-beijing.sh [SCALE]   (1 = Beijing; 0.05 = 150 000 entities and
#   1.5 M records, a quick trial). Environment: DAY_ROWS (rows a daily file, 20000),
#   XINYONG_BIN, BENCH_OUT, SKIP_SERVER=1 (intake only).
# It runs outside `cargo test`: at SCALE 1 it takes more than three hours on 2 cores (the
# intake alone about two and a half) and about 80 GB of disk at its peak.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-1}
day_rows=${DAY_ROWS:-20000}
out=${BENCH_OUT:-$PWD/bench-out/beijing}
subjects=$(python3 -c "print(int(3_000_000 * $scale))")
records=$(python3 -c "print(int(30_000_000 * $scale))")
command -v sqlite3 >/dev/null || { echo "needs sqlite3 (apt-get install sqlite3)"; exit 1; }
if [ -n "${XINYONG_BIN:-}" ]; then bin=$XINYONG_BIN; else cargo build --release --locked -q -p xinyong; bin=$PWD/target/release/xinyong; fi
rm -rf "$out" && mkdir -p "$out"
now() { date +%s.%N; }
echo "Beijing x$scale: $subjects entities, $records records, daily files of $day_rows rows; $(nproc) cores, $(free -g | awk '/Mem/ {print $2}') GiB" | tee "$out/summary.md"

t0=$(now)
"$bin" gen --subjects "$subjects" --records "$records" --seed 16 --format csv --out "$out/gen" >/dev/null
t1=$(now)
echo "generated in $(echo "$t1 - $t0" | bc) s" | tee -a "$out/summary.md"

# daily files: registrations first (a subject is registered before anything is decided
# about it), then one day of every department's item in turn
python3 - "$out/gen" "$out/days" "$day_rows" <<'EOF'
import os, sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(dst)
items = sorted(f[:-4] for f in os.listdir(src) if f.endswith(".csv"))
items.remove("registration")
def chunks(item):
    with open(os.path.join(src, item + ".csv"), encoding="utf-8", newline="") as f:
        header = f.readline()
        rows = []
        for line in f:
            rows.append(line)
            if len(rows) == n:
                yield header, rows
                rows = []
        if rows:
            yield header, rows
order = [("registration", c) for c in chunks("registration")]
gens = {i: chunks(i) for i in items}
while gens:
    for i in list(gens):
        c = next(gens[i], None)
        if c is None:
            del gens[i]
        else:
            order.append((i, c))
for k, (item, (header, rows)) in enumerate(order):
    with open(os.path.join(dst, f"{k:06d}.{item}.csv"), "w", encoding="utf-8", newline="") as f:
        f.write(header)
        f.writelines(rows)
EOF
files=$(ls "$out/days" | wc -l)
rm -rf "$out/gen"
echo "$files daily files" | tee -a "$out/summary.md"

# the peer first: sqlite3 .import of the same daily files into one database, the same
# order; its database is gone before xinyong's grows (at scale 1 both would not fit on
# a disk of 80 GB beside the files)
t0=$(now)
for f in "$out"/days/*.csv; do
  item=$(basename "$f" .csv); item=${item#*.}
  sqlite3 "$out/peer.db" -cmd "PRAGMA journal_mode=WAL" -cmd "PRAGMA synchronous=FULL" ".import --csv $f $item" >/dev/null
done
t1=$(now)
p_secs=$(echo "$t1 - $t0" | bc)
rm -f "$out/peer.db" "$out/peer.db-wal" "$out/peer.db-shm"

# xinyong: every daily file, one process each, as a department's upload would come
printf 'file\titem\trows\tseconds\trows_per_s\tstore_rows_before\twrite_busy_ms\tparse_busy_ms\n' >"$out/intake.tsv"
peak=0; store=0; t0=$(now)
for f in "$out"/days/*.csv; do
  item=$(basename "$f" .csv); item=${item#*.}
  rows=$(($(wc -l <"$f") - 1))
  a=$(now)
  /usr/bin/time -f "%M" -o "$out/rss" "$bin" import "$f" --item "$item" --provider 北京市数据中心 --data "$out/data" >"$out/last.json"
  b=$(now)
  write_busy=$(grep -o '"write_busy_ms": *[0-9]*' "$out/last.json" | grep -o '[0-9]*$')
  parse_busy=$(grep -o '"parse_busy_ms": *[0-9]*' "$out/last.json" | grep -o '[0-9]*$')
  rss=$(cat "$out/rss"); [ "$rss" -gt "$peak" ] && peak=$rss
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(basename "$f")" "$item" "$rows" "$(echo "$b - $a" | bc)" \
    "$(echo "$rows / ($b - $a)" | bc)" "$store" "$write_busy" "$parse_busy" >>"$out/intake.tsv"
  store=$((store + rows))
  rm -f "$f" # the peer has read it: at scale 1 the files (13 GB) and the store do not both fit in 80 GB
done
t1=$(now)
x_secs=$(echo "$t1 - $t0" | bc)
rm -rf "$out/days"

# ledger verify, against raw SHA-256 over the same event bytes (read first, hashed in memory)
t0=$(now)
/usr/bin/time -f "%M" -o "$out/rss-verify" "$bin" ledger verify --data "$out/data" >"$out/verify.json"
t1=$(now)
v_secs=$(echo "$t1 - $t0" | bc)
# and from a cold page cache, where the machine lets the script drop it: at Beijing's
# size the store is larger than memory, and verify reads it from the disk
cold_secs=0
if sync && echo 3 2>/dev/null >/proc/sys/vm/drop_caches; then
  t0=$(now)
  "$bin" ledger verify --data "$out/data" >"$out/verify-cold.json"
  t1=$(now)
  cold_secs=$(echo "$t1 - $t0" | bc)
fi
# stored payloads are compressed (crates/store/src/codec.rs): the peer hashes the same
# canonical bytes, decompressed with the same dictionaries beforehand (not timed)
python3 -c "import zstandard" 2>/dev/null || pip install -q zstandard
raw=$(python3 - "$out/data/xinyong.sqlite3" crates/store/dict <<'EOF'
import glob, hashlib, os, sqlite3, sys, time
import zstandard
# read in pages (30 M payloads do not fit in memory); only the hashing is timed
db = sqlite3.connect(sys.argv[1])
dicts = {}
for f in glob.glob(os.path.join(sys.argv[2], "events-*.zdict")):
    d = zstandard.ZstdCompressionDict(open(f, "rb").read())
    dicts[d.dict_id()] = zstandard.ZstdDecompressor(dict_data=d)
def canonical(p):
    if p[:1] == b"{":
        return p
    return dicts[zstandard.get_frame_parameters(p).dict_id].decompress(p)
n = size = 0
spent = 0.0
at = 0
while True:
    page = [canonical(r[0]) for r in db.execute("SELECT payload FROM events WHERE idx >= ? ORDER BY idx LIMIT 200000", (at,))]
    if not page:
        break
    at += len(page)
    t = time.perf_counter()
    for p in page:
        hashlib.sha256(b"\x00" + p).digest()
    spent += time.perf_counter() - t
    n += len(page)
    size += sum(map(len, page))
print(f"{n} {spent:.3f} {size}")
EOF
)
read -r events raw_secs raw_bytes <<<"$raw"

python3 - "$out" "$x_secs" "$p_secs" "$peak" "$v_secs" "$events" "$raw_secs" "$raw_bytes" "$cold_secs" <<'EOF' | tee -a "$out/summary.md"
import csv, subprocess, sys
out, x, p, peak, v, events, raw, raw_bytes, cold = sys.argv[1], *map(float, sys.argv[2:])
rows = list(csv.DictReader(open(f"{out}/intake.tsv"), delimiter="\t"))
total = sum(int(r["rows"]) for r in rows)
tenth = max(1, len(rows) // 10)
rate = lambda rs: sum(int(r["rows"]) for r in rs) / sum(float(r["seconds"]) for r in rs)
# the empty store: the first tenth of the files after the registrations
firsts = [r for r in rows if r["item"] != "registration"][:tenth]
disk = int(subprocess.check_output(["du", "-sm", f"{out}/data"]).split()[0])
print(f"""
| measure | value |
|---|---|
| rows imported | {total:,} in {len(rows)} daily files |
| xinyong import | {x:.0f} s, {total / x:,.0f} rows/s |
| peer: sqlite3 .import of the same files | {p:.0f} s, {total / p:,.0f} rows/s |
| xinyong / peer | {p / x:.2f}x |
| rate into the store's first tenth (after registrations) | {rate(firsts):,.0f} rows/s |
| rate into its last tenth | {rate(rows[-tenth:]):,.0f} rows/s ({rate(rows[-tenth:]) / rate(firsts):.2f}x the first) |
| writer busy / elapsed, all files | {sum(int(r["write_busy_ms"] or 0) for r in rows) / 1000:,.0f} s / {sum(float(r["seconds"]) for r in rows):,.0f} s |
| peak RSS of an import | {peak / 1024:.0f} MiB |
| data directory | {disk:,} MiB |
| ledger verify | {v:.1f} s, {events / v:,.0f} events/s |
| peer: raw SHA-256 of the same {raw_bytes / 2**20:,.0f} MiB | {raw:.1f} s, {events / raw:,.0f} events/s |
| verify / raw SHA-256 | {raw / v:.2f}x |
| ledger verify from a cold page cache | {f"{cold:.1f} s, {events / cold:,.0f} events/s, {raw / cold:.2f}x raw SHA-256" if cold else "not measured (cannot drop the page cache here)"} |
""")
# rows/s against the store's size, as an SVG line
w, h, pad = 800, 300, 40
xs = [int(r["store_rows_before"]) for r in rows]
ys = [float(r["rows_per_s"]) for r in rows]
mx, my = max(xs) or 1, max(ys) or 1
pts = " ".join(f"{pad + (w - 2 * pad) * x / mx:.1f},{h - pad - (h - 2 * pad) * y / my:.1f}" for x, y in zip(xs, ys))
with open(f"{out}/intake-rate.svg", "w") as f:
    f.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}"><rect width="{w}" height="{h}" fill="white"/>'
            f'<polyline fill="none" stroke="#1f5aa6" stroke-width="1" points="{pts}"/>'
            f'<text x="{pad}" y="{pad - 10}" font-size="12">rows/s (max {my:,.0f}) against rows in the store (max {mx:,})</text></svg>')
EOF

[ "${SKIP_SERVER:-}" = 1 ] && exit 0
# the check benchmark's tools, installed quietly before it runs
command -v wrk >/dev/null && command -v nginx >/dev/null || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx curl >/dev/null
}
# checks and search on that store
# the list entries checks find are the ones intake derived (abnormal operation, dishonest
# debtors): only a sample of codes is drawn here
"$bin" bench seed-listings --data "$out/data" --fraction 0 --sample-out "$out/codes.txt" --sample 100000 >"$out/seed.json"
"$bin" user add --username bench-officer --role officer --provider 北京市财政局 --token --data "$out/data" >"$out/officer.json"
BENCH_DATA="$out/data" BENCH_CODES="$out/codes.txt" BENCH_OFFICER="$out/officer.json" XINYONG_BIN="$bin" \
  scripts/bench-checks.sh "$subjects" 2>&1 | tee -a "$out/summary.md" || echo "check benchmark failed" | tee -a "$out/summary.md"
sqlite3 "$out/data/xinyong.sqlite3" -csv -header \
  "SELECT code AS 统一社会信用代码, name AS 主体名称, '' AS 曾用名 FROM subjects WHERE kind != 'person'" >"$out/names.csv"
"$bin" bench search --names "$out/names.csv" --work "$out/search" --queries 2000 | tee -a "$out/summary.md"
