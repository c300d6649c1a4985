#!/usr/bin/env bash
# Live dictation latency with Whisper tiny.en: ten Harvard sentences spoken
# by espeak-ng, fed in real time (48 kHz, 50 ms chunks, 1.2 s pauses) to the
# app's live loop, each final line translated by the tiny Marian fixture as
# live captions do; prints, per sentence, the time from its end to its final
# text, the median and the worst, the translation stage's latency, how
# often partials came, and the word error rate beside the same audio
# transcribed as a file. Run with the learned voice-activity detector
# (Silero) in int8 and float32, then with the energy threshold.
#   bench/live_latency.sh [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/fixtures/setup.sh
setup_system espeak-ng
setup_models
THREADS="${1:-2}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
i=0
while IFS= read -r s; do
  i=$((i + 1))
  espeak-ng -v en-us -s 145 -g 6 -w "$work/$(printf %02d $i).wav" "$s"
  printf "%s" "$s" > "$work/$(printf %02d $i).txt"
done <<'SENTENCES'
The birch canoe slid on the smooth planks.
Glue the sheet to the dark blue background.
It's easy to tell the depth of a well.
These days a chicken leg is a rare dish.
Rice is often served in round bowls.
The juice of lemons makes fine punch.
The box was thrown beside the parked truck.
The hogs were fed chopped corn and garbage.
Four hours of steady work faced us.
A large size in stockings is hard to sell.
SENTENCES
cargo build --quiet --example live_latency
run() {
  LIVE_TRANSLATE=tests/fixtures/marian/tiny-en-de RAYON_NUM_THREADS=$THREADS \
    "$CARGO_TARGET_DIR/debug/examples/live_latency" "$SPACEPORT_WHISPER_CT2" "$work"/*.wav
}
for compute in int8 float32; do
  say "live dictation, tiny.en $compute, Silero voice detection, $THREADS threads"
  LIVE_COMPUTE=$compute run
done
say "live dictation, tiny.en float32, pauses by loudness (no voice-activity model), $THREADS threads"
env -u SPACEPORT_SILERO_VAD LIVE_COMPUTE=float32 bash -c "$(declare -f run); THREADS=$THREADS work=$work run"
