#!/usr/bin/env bash
# Screenshots of live captions (the caption window over the main window,
# a German translation of English speech played to the speakers) and of
# the words highlighted while a transcribed recording plays, under Xvfb
# with the test sound server, into assets/screenshots/. Clicks by position
# (no window manager: the caption window is moved with xdotool), so update
# the coordinates here when the layout changes. The translation model is
# the tiny random Marian fixture: its German is gibberish by design.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
setup_system xvfb xdotool imagemagick espeak-ng pulseaudio-utils
setup_models
setup_pulse
cargo build --quiet --bin spaceport
out=assets/screenshots
work="$(mktemp -d)"
export DISPLAY=:96
Xvfb "$DISPLAY" -screen 0 1280x800x24 >/dev/null 2>&1 &
xvfb=$!
app=
trap 'kill $app $xvfb 2>/dev/null || true; rm -rf "$work"' EXIT
export HF_HUB_CACHE="$work/cache" HF_HOME="$work/home" XDG_DATA_HOME="$work/data" HF_HUB_OFFLINE=1
commit=0123456789abcdef0123456789abcdef01234567
install() {
  local dir="$HF_HUB_CACHE/models--$1"
  mkdir -p "$dir/snapshots/$commit" "$dir/refs"
  echo -n "$commit" > "$dir/refs/main"
  for f in "$2"/*; do ln -s "$(readlink -f "$f")" "$dir/snapshots/$commit/$(basename "$f")"; done
}
install Systran--faster-whisper-tiny.en "$SPACEPORT_WHISPER_CT2"
install Helsinki-NLP--opus-mt-en-de tests/fixtures/marian/tiny-en-de
espeak-ng -m -v en-us -s 145 -g 6 -w "$work/talk.wav" \
  '<speak>Good morning, everyone. <break time="1200ms"/> Today we look at the birch canoe that slid on the smooth planks. <break time="1200ms"/> The juice of lemons makes fine punch.</speak>'
cp tests/fixtures/whisper/words/sentences.flac "$work/sentences.flac"
"$CARGO_TARGET_DIR/debug/spaceport" >"$work/app.log" 2>&1 &
app=$!
sleep 6
click() { xdotool mousemove "$1" "$2" click 1; sleep "${3:-1}"; }
click 72 246 2            # Transcribe
click 335 207; click 283 257   # Translate into: German
click 440 207 2           # Caption window
xdotool windowmove "$(xdotool search --name 'Live captions' | head -1)" 160 500
sleep 1
click 492 184 3           # Record (the system default: the sink's monitor)
paplay -d "$SPACEPORT_TEST_SINK" "$work/talk.wav"
sleep 0.6
import -window root "$out/captions.png"
say "saved $out/captions.png"
click 484 184 2           # Stop
click 440 207 1           # caption window off
click 165 88              # Time each word
xdotool windowfocus --sync "$(xdotool search --name '^Spaceport$' | head -1)"
click 437 118
xdotool type --delay 5 "$work/sentences.flac"
xdotool key Return
sleep 8
click 722 243 5.5         # ▶ Play
import -window root "$out/words.png"
say "saved $out/words.png"
