#!/usr/bin/env bash
# Search benchmark (issue 3): 3 M generated names indexed by xinyong (tantivy + jieba
# + pinyin) and by SQLite FTS5 with the trigram tokenizer, the same queries against both
# in the same run. Usage: scripts/bench-search.sh [SUBJECTS] [QUERIES]  (3000000 2000)
set -euo pipefail
cd "$(dirname "$0")/.."
subjects=${1:-3000000}
queries=${2:-2000}
out=bench-out/search
cargo build --release --locked -q
[ -f "$out/gen/registration.csv" ] || target/release/xinyong gen --subjects "$subjects" --records 0 --format csv --seed 9 --out "$out/gen" >/dev/null
target/release/xinyong bench search --names "$out/gen/registration.csv" --work "$out/work" --queries "$queries"
