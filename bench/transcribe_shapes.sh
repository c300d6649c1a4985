#!/usr/bin/env bash
# Whisper at the shapes tiny hides: Whisper small and large-v3-turbo
# architectures with random weights (made once into the cache by
# bench/make_whisper_big.py, in the Hugging Face layout and as
# CTranslate2 int8 and float32 models). Each engine encodes one 30 s
# window and decodes exactly STEPS greedy tokens, spaceport in int8 and
# float32 against CTranslate2 (faster-whisper's engine) at the same
# precision, the same threads; encode and decode times, load time, peak
# memory and the ratio of total times.
#   [SIZES="small turbo"] bench/transcribe_shapes.sh [STEPS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/fixtures/setup.sh
setup_system bc
setup_python
setup_models
"$FIXTURES_VENV/bin/pip" install -q --disable-pip-version-check faster-whisper==1.2.1
STEPS="${1:-64}"; THREADS="${2:-2}"; SIZES="${SIZES:-small turbo}"
cargo build --quiet --example bench_transcribe --example bench_whisper_steps
B="$CARGO_TARGET_DIR/debug/examples"
# The tokenizer and generation files of tiny.en serve every shape.
tok="$SPACEPORT_CACHE/bench/whisper-tiny.en-hf"
[ -f "$tok/config.json" ] || "$B/bench_transcribe" "$SPACEPORT_WHISPER_CT2" --convert "$tok"
total() { sed -n 's/.*total \([0-9]*\) ms.*/\1/p'; }
for size in $SIZES; do
  model="$SPACEPORT_CACHE/bench/whisper-$size-random"
  if [ ! -f "$model/ct2-float32/model.bin" ]; then
    say "making the random Whisper-$size in $model"
    "$FIXTURES_PYTHON" bench/make_whisper_big.py "$model" "$size" "$tok" >/dev/null
  fi
  say "Whisper-$size: one 30 s window and $STEPS tokens, $THREADS threads"
  for ct in int8 float32; do
    # Both engines read the same CTranslate2 files (int8 kept as it is).
    cp "$model/hf/tokenizer.json" "$model/ct2-$ct/"
    sp=$(RAYON_NUM_THREADS=$THREADS "$B/bench_whisper_steps" "$model/ct2-$ct" "$ct" "$STEPS")
    peer=$(OMP_NUM_THREADS=$THREADS "$FIXTURES_PYTHON" bench/peer_whisper_steps.py \
      "$model/ct2-$ct" "$model/hf" "$ct" "$STEPS" "$THREADS" 2>/dev/null)
    echo "$sp"
    echo "$peer"
    printf '  %s %s: time %.2f× CTranslate2'"'"'s (aim ≤ 0.8)\n' "$size" "$ct" \
      "$(echo "$(echo "$sp" | total) / $(echo "$peer" | total)" | bc -l)"
  done
done
