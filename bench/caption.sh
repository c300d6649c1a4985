#!/usr/bin/env bash
# Captioning speed: spaceport against transformers (PyTorch CPU) on the
# full-size BLIP-base architecture with random weights (made once by
# bench/make_blip_big.py into the cache), scikit-image's sample
# photographs, the same threads, a fixed caption length; median latency
# per picture (opening and preparing it included) and the ratio.
#   bench/caption.sh [NEW_TOKENS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/fixtures/setup.sh
setup_system bc
setup_python
setup_images
NEW_TOKENS="${1:-20}"; THREADS="${2:-2}"
model="$SPACEPORT_CACHE/bench/blip-base-random"
if [ ! -f "$model/model.safetensors" ]; then
  say "making the random full-size BLIP-base in $model"
  "$FIXTURES_PYTHON" bench/make_blip_big.py "$model" >/dev/null
fi
# Our loader wants a tokenizer; the tiny fixture's serves (ids are not decoded here).
cp tests/fixtures/blip/tiny/tokenizer.json "$model/"
pics=("$SPACEPORT_TEST_IMAGES"/{astronaut,chelsea,coffee}.png)
cargo build --quiet --example bench_caption
say "BLIP-base, $NEW_TOKENS tokens a caption, $THREADS threads"
sp=$(RAYON_NUM_THREADS=$THREADS "$CARGO_TARGET_DIR/debug/examples/bench_caption" "$model" "$NEW_TOKENS" "${pics[@]}")
echo "$sp"
peer=$(OMP_NUM_THREADS=$THREADS "$FIXTURES_PYTHON" bench/peer_caption.py "$model" "$NEW_TOKENS" "$THREADS" "${pics[@]}" 2>/dev/null)
echo "$peer"
s=$(echo "$sp" | awk '{print $2}'); t=$(echo "$peer" | awk '{print $2}')
printf 'speed vs transformers: %.2f× (above 1 = spaceport faster; aim > 1)\n' "$(echo "$t / $s" | bc -l)"
