#!/usr/bin/env bash
# Transcription speed: spaceport against faster-whisper (int8, float32)
# and transformers (PyTorch CPU) on the same 30 s and 3 min espeak-ng
# speech (and 20 min unless LONG=0), tiny.en, the same threads, greedy
# decoding, each engine in its own process; real-time factors (seconds
# of compute per second of audio), load times, peak memory and ratios at
# the same precision (int8, float32).
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
# 20 minutes: the 3 minutes repeated (LONG=0 skips it).
if [ "${LONG:-1}" != 0 ]; then
  sox $(for i in 1 2 3 4 5 6 7; do echo "$work/3min.wav"; done) "$work/20min.wav" trim 0 1200
  clips="30s 3min 20min"
else
  clips="30s 3min"
fi
rtf() { awk -v n="$1" '$1 == n {print $2}'; }
field() { awk -v n="$1" -v k="$2" '$1 == n { for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'; }
for clip in $clips; do
  say "$clip of speech, $THREADS threads (real-time factor: seconds of compute per second of audio)"
  rows=""
  for ct in int8 float32 float16 default; do
    rows+="$(RAYON_NUM_THREADS=$THREADS "$B" "$SPACEPORT_WHISPER_CT2" "$work/$clip.wav" "$ct")"$'\n'
  done
  # Batched (windows found by voice activity, 8 decoded together), as
  # faster-whisper's BatchedInferencePipeline (batch_size 8).
  for ct in int8 float32; do
    rows+="$(RAYON_NUM_THREADS=$THREADS "$B" "$SPACEPORT_WHISPER_CT2" "$work/$clip.wav" "$ct" 8)"$'\n'
  done
  peers="faster-whisper-int8 faster-whisper-float32 faster-whisper-batched-int8 faster-whisper-batched-float32"
  [ "$clip" != 20min ] && peers+=" transformers"
  for p in $peers; do
    rows+="$(OMP_NUM_THREADS=$THREADS "$FIXTURES_PYTHON" bench/peer_transcribe.py "$SPACEPORT_WHISPER_CT2" "$work/hf" "$work/$clip.wav" "$THREADS" "$p" 2>/dev/null)"$'\n'
  done
  printf '%s' "$rows"
  ratio() {
    local s r
    s=$(echo "$rows" | rtf "$1"); r=$(echo "$rows" | rtf "$2")
    [ -n "$s" ] && [ -n "$r" ] && printf '  %s vs %s: time %.2f× theirs (aim ≤ 0.8), peak memory %s MB vs %s MB\n' \
      "$1" "$2" "$(echo "$s / $r" | bc -l)" "$(echo "$rows" | field "$1" peak)" "$(echo "$rows" | field "$2" peak)"
    return 0
  }
  ratio spaceport-int8 faster-whisper-int8
  ratio spaceport-float32 faster-whisper-float32
  ratio spaceport-batched-int8 faster-whisper-batched-int8
  ratio spaceport-batched-float32 faster-whisper-batched-float32
  ratio spaceport-default transformers
done
