#!/usr/bin/env bash
# Captioning speed: spaceport in int8, float16 and float32 against
# transformers (PyTorch CPU, float32) on the full-size BLIP-base and
# BLIP-large architectures with random weights (made once by
# bench/make_blip_big.py into the cache), scikit-image's sample
# photographs, the same threads, a fixed caption length; median latency
# per picture (opening and preparing it included), load time, peak
# memory and the ratio.
#   [SIZES="base large"] bench/caption.sh [NEW_TOKENS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/fixtures/setup.sh
setup_system bc
setup_python
setup_images
NEW_TOKENS="${1:-20}"; THREADS="${2:-2}"; SIZES="${SIZES:-base large}"
pics=("$SPACEPORT_TEST_IMAGES"/{astronaut,chelsea,coffee}.png)
cargo build --quiet --example bench_caption
for size in $SIZES; do
  model="$SPACEPORT_CACHE/bench/blip-$size-random"
  if [ ! -f "$model/model.safetensors" ]; then
    say "making the random full-size BLIP-$size in $model"
    "$FIXTURES_PYTHON" bench/make_blip_big.py "$model" "$size" >/dev/null
  fi
  # Our loader wants a tokenizer; the tiny fixture's serves (ids are not decoded here).
  cp tests/fixtures/blip/tiny/tokenizer.json "$model/"
  say "BLIP-$size, $NEW_TOKENS tokens a caption, $THREADS threads (median per picture, opening it included)"
  peer=$(OMP_NUM_THREADS=$THREADS "$FIXTURES_PYTHON" bench/peer_caption.py "$model" "$NEW_TOKENS" "$THREADS" "${pics[@]}" 2>/dev/null)
  echo "$peer"
  t=$(echo "$peer" | awk '{print $2}')
  # auto: what `--compute-type auto` picks here (int8 where the processor
  # has int8 instructions).
  for ct in auto int8 float16 float32; do
    sp=$(RAYON_NUM_THREADS=$THREADS "$CARGO_TARGET_DIR/debug/examples/bench_caption" "$model" "$NEW_TOKENS" "$ct" "${pics[@]}")
    s=$(echo "$sp" | awk '{print $2}')
    printf '%s  (%.2f× transformers float32; aim ≥ 2)\n' "$sp" "$(echo "$t / $s" | bc -l)"
  done
done
