#!/usr/bin/env bash
# Transcription speed: spaceport against faster-whisper (int8, float32)
# and transformers (PyTorch CPU) on the same 30 s and 3 min espeak-ng
# speech, tiny.en, the same threads, greedy decoding; real-time factors
# (seconds of compute per second of audio) and ratios.
#   bench/transcribe.sh [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/fixtures/setup.sh
setup_system sox espeak-ng bc
setup_python
setup_models
"$FIXTURES_VENV/bin/pip" install -q --disable-pip-version-check faster-whisper==1.2.1
THREADS="${1:-2}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
espeak-ng -v en-us -s 150 -w "$work/raw.wav" "The birch canoe slid on the smooth planks. \
Glue the sheet to the dark blue background. It's easy to tell the depth of a well. \
These days a chicken leg is a rare dish. Rice is often served in round bowls. \
The juice of lemons makes fine punch. The box was thrown beside the parked truck. \
The hogs were fed chopped corn and garbage. Four hours of steady work faced us. \
A large size in stockings is hard to sell."
sox "$work/raw.wav" -r 16000 -c 1 "$work/one.wav"
sox "$work/one.wav" "$work/30s.wav" pad 0 30 trim 0 30
sox "$work/30s.wav" "$work/30s.wav" "$work/30s.wav" "$work/30s.wav" "$work/30s.wav" "$work/30s.wav" "$work/3min.wav"
cargo build --quiet --example bench_transcribe
B="$CARGO_TARGET_DIR/debug/examples/bench_transcribe"
"$B" "$SPACEPORT_WHISPER_CT2" --convert "$work/hf"
for clip in 30s 3min; do
  say "$clip of speech, $THREADS threads"
  sp=$(RAYON_NUM_THREADS=$THREADS "$B" "$SPACEPORT_WHISPER_CT2" "$work/$clip.wav")
  echo "$sp"
  peers=$(OMP_NUM_THREADS=$THREADS "$FIXTURES_PYTHON" bench/peer_transcribe.py "$SPACEPORT_WHISPER_CT2" "$work/hf" "$work/$clip.wav" "$THREADS" 2>/dev/null)
  echo "$peers"
  rtf() { awk -v n="$1" '$1 == n {print $2}'; }
  s=$(echo "$sp" | rtf spaceport)
  for p in faster-whisper-int8 faster-whisper-float32 transformers; do
    r=$(echo "$peers" | rtf "$p")
    [ -n "$r" ] && printf '  speed vs %s: %.2f× (above 1 = spaceport faster)\n' "$p" "$(echo "$r / $s" | bc -l)"
  done
done
