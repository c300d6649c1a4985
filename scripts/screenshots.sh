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
# An audiofolder of three recordings with their text, for the Evaluate page.
mkdir -p "$work/speech"
echo "file_name,transcription" > "$work/speech/metadata.csv"
i=0
for s in "The birch canoe slid on the smooth planks." "Glue the sheet to the dark blue background." "It's easy to tell the depth of a well."; do
  i=$((i + 1))
  espeak-ng -v en-us -s 130 -w "$work/speech/$i.wav" "$s"
  printf '%s.wav,"%s"\n' "$i" "$s" >> "$work/speech/metadata.csv"
done
# A second Marian model to compare with: the tiny fixture with noise on
# its output bias (another random model, so other gibberish).
noisy_dir="$HF_HUB_CACHE/models--me--opus-mt-en-de-noisy"
mkdir -p "$noisy_dir/snapshots/$commit" "$noisy_dir/refs"
echo -n "$commit" > "$noisy_dir/refs/main"
for f in tests/fixtures/marian/tiny-en-de/*; do
  case "$(basename "$f")" in reference.json|tokenizer_cases.json|pytorch_model.bin|model.safetensors) continue ;; esac
  cp "$f" "$noisy_dir/snapshots/$commit/"
done
"$SPACEPORT_PYTHON" - tests/fixtures/marian/tiny-en-de/model.safetensors "$noisy_dir/snapshots/$commit/model.safetensors" <<'PY'
import json, struct, sys
import numpy as np
data = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", data[:8])[0]
header = json.loads(data[8:8 + n])
body = bytearray(data[8 + n:])
a, b = header["final_logits_bias"]["data_offsets"]
bias = np.frombuffer(bytes(body[a:b]), dtype="<f4").copy()
bias += np.random.default_rng(7).uniform(-3, 3, bias.shape).astype("<f4")
body[a:b] = bias.tobytes()
open(sys.argv[2], "wb").write(data[:8 + n] + bytes(body))
PY
# A few English–German sentence pairs as a translation dataset.
mkdir -p "$work/pairs/data"
"$SPACEPORT_PYTHON" - "$work/pairs/data/test-00000-of-00001.parquet" <<'PY'
import sys
import pyarrow as pa, pyarrow.parquet as pq
from datasets import Features, Translation
pairs = [("The cat sleeps.", "Die Katze schläft."), ("Good morning.", "Guten Morgen."),
         ("Where is the station?", "Wo ist der Bahnhof?"), ("I like tea.", "Ich mag Tee."),
         ("It is raining today.", "Heute regnet es."), ("Thank you very much.", "Vielen Dank."),
         ("The book is on the table.", "Das Buch liegt auf dem Tisch."), ("We are late.", "Wir sind spät dran.")]
features = Features({"translation": Translation(languages=["en", "de"])})
data = {"translation": [{"en": e, "de": d} for e, d in pairs]}
pq.write_table(pa.Table.from_pydict(data, schema=features.arrow_schema), sys.argv[1])
PY
shot() { import -window root "$out/$1.png"; say "saved $out/$1.png"; }
click() { xdotool mousemove "$1" "$2" click 1; sleep "${3:-1}"; }
# A new user's first look: a fresh profile and an empty cache.
HF_HUB_CACHE="$work/fresh-cache" XDG_DATA_HOME="$work/fresh-data" "$BIN/spaceport" &
app=$!
sleep 4
shot welcome
kill $app; wait $app 2>/dev/null || true
"$BIN/spaceport" &
app=$!
sleep 3
xdotool search --name Spaceport windowfocus --sync; xdotool key ctrl+2; sleep 0.5   # the Hub page
xdotool search --name Spaceport windowfocus --sync; click 430 17 0.5; xdotool type --delay 30 "opus"; click 645 18 2   # search "opus"
shot hub
click 250 99 2                                    # open the first result
xdotool mousemove 300 600
shot details
click 72 91 1; click 430 17 0.3                   # Hub page, search everything
xdotool key ctrl+a BackSpace; sleep 0.3; click 645 18 2
click 207 281 2                                   # bench/big-model
click 228 148 0.5                                 # Download
shot download
sleep 4
click 72 153 1.5; shot library
click 72 184 1; click 300 200 0.3; xdotool type --delay 20 "The cat sleeps. Über die Straße"; sleep 2; shot translate
click 72 215 1; click 450 95 0.3; xdotool type --delay 10 "$SPACEPORT_TEST_IMAGES/chelsea.png"; click 686 95 4; shot caption
click 72 246 1; click 325 161 8; shot transcribe   # the English example
click 72 308 1; shot settings
click 72 122 1; click 400 60 3; shot datasets-search   # the Datasets page: Image to text
click 233 172 4; click 190 112 1.5; shot datasets     # spaceport/photo-captions, its Details
click 72 277 1; click 370 91 0.3; xdotool type --delay 10 "$work/speech"   # Evaluate: the audiofolder,
click 805 92 2; click 410 138 0.3                     # its columns; Systran/faster-whisper-tiny.en (after bench/big-model)
click 274 161 0.7; click 290 234 0.5                  # English normaliser
click 177 184 20; shot evaluate                       # Run
click 370 91 0.3; xdotool key ctrl+a BackSpace; xdotool type --delay 10 "$work/pairs"   # the sentence pairs,
click 805 92 2; click 215 138 0.3; click 446 138 0.3  # both Marian models,
click 290 161 0.6; click 270 188 0.5                  # as written
click 177 184 8; click 435 318 2; shot evaluate-compare   # Run, Compare these runs
