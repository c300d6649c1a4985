#!/usr/bin/env bash
# Takes screenshots of each page of a real window under Xvfb, with the
# stand-in Hub as the Hub, into assets/screenshots/. Clicks by position, so
# update the coordinates here when the layout changes.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
setup_system xvfb xdotool imagemagick espeak-ng
cargo build --quiet --bin spaceport --example standin_hub
BIN="$CARGO_TARGET_DIR/debug"
out=assets/screenshots
mkdir -p "$out"
work="$(mktemp -d)"
export DISPLAY=:97
Xvfb "$DISPLAY" -screen 0 1120x740x24 >/dev/null 2>&1 &
xvfb=$!
app=; hub=
trap 'kill $app $hub $xvfb 2>/dev/null || true; rm -rf "$work"' EXIT
export HF_HUB_CACHE="$work/cache" HF_HOME="$work/home" XDG_DATA_HOME="$work/data"
# The tiny Marian fixture as if Helsinki-NLP/opus-mt-en-de were downloaded
# (random weights: the layout is real, the translation is not).
repo_dir="$HF_HUB_CACHE/models--Helsinki-NLP--opus-mt-en-de"
commit=0123456789abcdef0123456789abcdef01234567
mkdir -p "$repo_dir/blobs" "$repo_dir/snapshots/$commit" "$repo_dir/refs"
echo -n "$commit" > "$repo_dir/refs/main"
for f in tests/fixtures/marian/tiny-en-de/*; do
  case "$(basename "$f")" in reference.json|tokenizer_cases.json) continue ;; esac
  sum=$(sha256sum "$f" | cut -d' ' -f1)
  cp "$f" "$repo_dir/blobs/$sum"
  ln -s "../../blobs/$sum" "$repo_dir/snapshots/$commit/$(basename "$f")"
done
# Whisper tiny.en (CTranslate2), as if Systran/faster-whisper-tiny.en were
# downloaded, and a recording to transcribe.
setup_python
setup_models
repo_dir="$HF_HUB_CACHE/models--Systran--faster-whisper-tiny.en"
mkdir -p "$repo_dir/snapshots/$commit" "$repo_dir/refs"
echo -n "$commit" > "$repo_dir/refs/main"
for f in "$SPACEPORT_WHISPER_CT2"/*; do ln -s "$f" "$repo_dir/snapshots/$commit/$(basename "$f")"; done
# The tiny BLIP fixture as if Salesforce/blip-image-captioning-base were
# downloaded (random weights: the caption is gibberish by design), and a
# photograph to caption.
setup_images
repo_dir="$HF_HUB_CACHE/models--Salesforce--blip-image-captioning-base"
mkdir -p "$repo_dir/snapshots/$commit" "$repo_dir/refs"
echo -n "$commit" > "$repo_dir/refs/main"
for f in tests/fixtures/blip/tiny/*; do
  [ "$(basename "$f")" = reference.json ] && continue
  ln -s "$PWD/$f" "$repo_dir/snapshots/$commit/$(basename "$f")"
done
# A small dataset of the sample photographs with captions, as datasets
# writes it (the Image feature in the schema's metadata).
mkdir -p "$work/photos/data"
"$SPACEPORT_PYTHON" - "$SPACEPORT_TEST_IMAGES" "$work/photos/data/test-00000-of-00001.parquet" <<'PY'
import sys
import pyarrow as pa, pyarrow.parquet as pq
from datasets import Features, Image, Value
src, out = sys.argv[1], sys.argv[2]
rows = [("astronaut.png", "an astronaut in a white suit in front of a flag"),
        ("chelsea.png", "a tabby cat looking to the side"),
        ("coffee.png", "a cup of coffee on a saucer"),
        ("rocket.jpg", "a rocket on its launch pad"),
        ("camera.png", "a man with a camera on a tripod")]
features = Features({"image": Image(), "caption": Value("string"), "label": Value("int64")})
data = {"image": [{"bytes": open(f"{src}/{n}", "rb").read(), "path": n} for n, _ in rows],
        "caption": [c for _, c in rows], "label": list(range(len(rows)))}
pq.write_table(pa.Table.from_pydict(data, schema=features.arrow_schema), out, row_group_size=100)
PY
# The stand-in Hub, with the photos as a dataset to find and open.
"$BIN/examples/standin_hub" --mb 400 --photos "$work/photos/data/test-00000-of-00001.parquet" > "$work/hub.txt" &
hub=$!
for _ in $(seq 300); do grep -q '^repo' "$work/hub.txt" 2>/dev/null && break; sleep 0.1; done
export HF_ENDPOINT=$(awk '/^endpoint/{print $2}' "$work/hub.txt")
espeak-ng -v en-us -s 130 -w "$work/dictation.wav" "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. It's easy to tell the depth of a well."
# An audiofolder of that recording with its text, for the Evaluate page.
mkdir -p "$work/speech"
cp "$work/dictation.wav" "$work/speech/"
printf 'file_name,transcription\ndictation.wav,"The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background. It'"'"'s easy to tell the depth of a well."\n' > "$work/speech/metadata.csv"
"$BIN/spaceport" &
app=$!
sleep 3
shot() { import -window root "$out/$1.png"; say "saved $out/$1.png"; }
click() { xdotool mousemove "$1" "$2" click 1; sleep "${3:-1}"; }
xdotool search --name Spaceport windowfocus --sync; click 430 17 0.5; xdotool type --delay 30 "opus"; click 645 18 2   # search "opus"
shot hub
click 250 99 2                                    # open the first result
xdotool mousemove 300 600
shot details
click 72 60 1; click 430 17 0.3                   # Hub page, search everything
xdotool key ctrl+a BackSpace; sleep 0.3; click 645 18 2
click 207 281 2                                   # bench/big-model
click 228 148 0.5                                 # Download
shot download
sleep 4
click 72 122 1.5; shot library
click 72 153 1; click 300 200 0.3; xdotool type --delay 20 "The cat sleeps. Über die Straße"; sleep 2; shot translate
click 72 184 1; click 450 95 0.3; xdotool type --delay 10 "$SPACEPORT_TEST_IMAGES/chelsea.png"; click 686 95 4; shot caption
click 72 215 1; click 400 93 0.3; xdotool type --delay 10 "$work/dictation.wav"; click 700 93 8; shot transcribe
click 72 277 1; shot settings
click 72 91 1; click 400 60 3; shot datasets-search   # the Datasets page: Image to text
click 233 172 4; click 190 112 1.5; shot datasets     # spaceport/photo-captions, its Details
click 72 246 1; click 370 57 0.3; xdotool type --delay 10 "$work/speech"   # Evaluate: the audiofolder,
click 270 83 1; click 340 179 0.5                     # Systran/faster-whisper-tiny.en
click 165 104 0.3; click 177 127 15; shot evaluate    # normalised, Run
