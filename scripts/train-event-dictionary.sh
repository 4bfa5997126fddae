#!/usr/bin/env bash
# Trains the zstd dictionary stored event payloads are compressed against
# (crates/store/dict/events-ID.zdict; see crates/store/src/codec.rs). A dictionary is
# reference data: once a release has written events with it, it is never changed or
# removed (those events need it to be read); a better one gets a new ID beside it.
# Usage: scripts/train-event-dictionary.sh ID   (ID in 32768..2^31-1, zstd's private range)
# Needs zstd (apt-get install zstd) and a release build. It trains on the payloads of a
# generated store: every catalog item, registrations and the lists intake derives.
set -euo pipefail
cd "$(dirname "$0")/.."
id=${1:?dictionary id}
command -v zstd >/dev/null || { echo "needs zstd (apt-get install zstd)"; exit 1; }
cargo build --release --locked -q -p xinyong
bin=$PWD/target/release/xinyong
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" gen --subjects 30000 --records 300000 --seed 16 --format csv --out "$work/gen" >/dev/null
for f in "$work/gen/registration.csv" $(ls "$work"/gen/*.csv | grep -v registration); do
  "$bin" import "$f" --item "$(basename "$f" .csv)" --provider 北京市数据中心 --data "$work/data" >/dev/null 2>&1
done
# one file per payload (its canonical bytes), 20 000 spread over the ledger
"$bin" bench event-samples --data "$work/data" --sample 20000 --out "$work/samples" >/dev/null
zstd -q --train -r "$work/samples" --maxdict=112640 --dictID="$id" -o "crates/store/dict/events-$id.zdict"
ls -l "crates/store/dict/events-$id.zdict"
