#!/usr/bin/env bash
# Datasets, against the peers on the same files in the same run:
#  1. the first page (100 rows) of a remote SHARD_MB shard with 100-row row
#     groups from the stand-in Hub: spaceport reads the footer and one row
#     group by HTTP range; what datasets.load_dataset(split="train[:100]")
#     does — download the whole shard (huggingface_hub), load, take 100
#     rows. Time and bytes.
#  2. every row of a local TEXT_MB text parquet: spaceport (rows to
#     /dev/null) against pyarrow's batches turned into Python rows.
#   bench/datasets.sh [SHARD_MB] [TEXT_MB]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
setup_system bc
setup_python
SHARD_MB="${1:-200}"; TEXT_MB="${2:-1024}"
cargo build --quiet --bin spaceport --example standin_hub
BIN="$CARGO_TARGET_DIR/debug"
work="$(mktemp -d)"
trap 'kill $hub_pid 2>/dev/null || true; rm -rf "$work"' EXIT
say "making a ${SHARD_MB} MB shard and a ${TEXT_MB} MB text file"
"$SPACEPORT_PYTHON" bench/make_datasets_big.py "$work" "$SHARD_MB" "$TEXT_MB"
ls -l "$work"/*.parquet | awk '{printf "%s %.0f MB\n", $9, $5/1e6}'
"$BIN/examples/standin_hub" --mb 1 --dataset "$work/shard.parquet" > "$work/hub.txt" &
hub_pid=$!
for _ in $(seq 300); do grep -q '^repo' "$work/hub.txt" 2>/dev/null && break; sleep 0.1; done
endpoint=$(awk '/^endpoint/{print $2}' "$work/hub.txt")
export HF_ENDPOINT="$endpoint" HF_HUB_CACHE="$work/cache" HF_HOME="$work/home"

t0=$(date +%s.%N)
"$BIN/spaceport" dataset rows bench/dataset --limit 100 > /dev/null 2> "$work/note.txt"
t1=$(date +%s.%N)
sp=$(echo "$t1 - $t0" | bc -l)
printf 'spaceport first page: %.2f s, %s\n' "$sp" "$(cat "$work/note.txt")"
peer=$(HF_HUB_CACHE="$work/pycache" HF_HUB_DISABLE_XET=1 \
  "$SPACEPORT_PYTHON" bench/peer_datasets.py first-page bench/dataset "$work/dscache")
echo "$peer (and the whole ${SHARD_MB} MB file)"
pt=$(echo "$peer" | awk '{print $(NF-1)}')
printf 'first page, datasets/spaceport time: %.1fx\n' "$(echo "$pt / $sp" | bc -l)"

t0=$(date +%s.%N)
rows=$("$BIN/spaceport" dataset rows "$work/text.parquet" --limit 1000000000 | wc -l)
t1=$(date +%s.%N)
sp=$(echo "$t1 - $t0" | bc -l)
printf 'spaceport rows: %d in %.2f s\n' "$rows" "$sp"
peer=$("$SPACEPORT_PYTHON" bench/peer_datasets.py all-text "$work/text.parquet")
echo "$peer"
pt=$(echo "$peer" | awk '{print $(NF-1)}')
printf 'all rows, pyarrow/spaceport time: %.2f (above 1: spaceport faster)\n' "$(echo "$pt / $sp" | bc -l)"
