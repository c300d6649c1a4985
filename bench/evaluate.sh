#!/usr/bin/env bash
# Evaluation overhead and speed: `spaceport evaluate` with Whisper tiny.en
# over ROWS espeak-ng recordings (ten Harvard sentences in several voices
# and speeds) as an audiofolder, normalised English WER — how much of the
# run is outside the model (reading rows, decoding audio, scoring with
# bootstrap intervals; the aim is under 5 %) — against the same
# evaluation in Python in the same run: faster-whisper (float32, greedy)
# over the same files, whisper-normalizer and jiwer. Wall times, WERs and
# the ratio.
#   bench/evaluate.sh [ROWS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/fixtures/setup.sh
setup_system espeak-ng sox bc jq
setup_python
setup_models
"$FIXTURES_VENV/bin/pip" install -q --disable-pip-version-check faster-whisper==1.2.1 \
  jiwer==4.0.0 whisper-normalizer==0.1.15
ROWS="${1:-100}"; THREADS="${2:-2}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
mkdir -p "$work/speech"
echo "file_name,transcription" > "$work/speech/metadata.csv"
mapfile -t SENTENCES <<'S'
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
S
VOICES=(en-us en-gb en-us+f2 en-gb+m3 en-us+m7 en-gb-x-rp en-us+f4 en-029 en-gb-scotland en-us+m2)
say "making $ROWS recordings"
for i in $(seq 0 $((ROWS - 1))); do
  s="${SENTENCES[$((i % 10))]}"; v="${VOICES[$(((i / 10) % 10))]}"; speed=$((125 + (i * 7) % 50))
  f=$(printf 'r%03d.wav' "$i")
  espeak-ng -v "$v" -s "$speed" -w "$work/raw.wav" "$s"
  sox -q "$work/raw.wav" -r 16000 -c 1 "$work/speech/$f"
  printf '%s,"%s"\n' "$f" "$s" >> "$work/speech/metadata.csv"
done
cargo build --quiet --bin spaceport
say "spaceport evaluate, $ROWS rows, $THREADS threads"
t0=$(date +%s.%N)
RAYON_NUM_THREADS=$THREADS HF_HUB_OFFLINE=1 "$CARGO_TARGET_DIR/debug/spaceport" evaluate \
  --model "$SPACEPORT_WHISPER_CT2" --dataset "$work/speech" --limit "$ROWS" \
  --normalize whisper-en --json > "$work/run.json"
t1=$(date +%s.%N)
wall=$(echo "$t1 - $t0" | bc -l)
jq -r '"rows \(.rows), WER \(.metrics.wer), CER \(.metrics.cer), RTFx \(.speed.rtfx), load \(.speed.load_seconds) s, model \(.speed.model_seconds) s, run \(.speed.run_seconds) s, peak memory \(.speed.peak_memory_bytes / 1e6 | floor) MB"' "$work/run.json"
model=$(jq '.speed.model_seconds' "$work/run.json")
run=$(jq '.speed.run_seconds' "$work/run.json")
load=$(jq '.speed.load_seconds' "$work/run.json")
printf 'outside the model within the run (rows, audio decoding, scoring): %.2f s = %.1f %% of the run\n' \
  "$(echo "$run - $model" | bc -l)" "$(echo "($run - $model) * 100 / $run" | bc -l)"
printf 'outside the model and the load, whole process (%.2f s wall): %.1f %%\n' \
  "$wall" "$(echo "($wall - $model - $load) * 100 / $wall" | bc -l)"
say "the same in Python: faster-whisper float32 + whisper-normalizer + jiwer"
peer=$("$FIXTURES_VENV/bin/python" - "$SPACEPORT_WHISPER_CT2" "$work/speech" "$ROWS" "$THREADS" <<'PY'
import csv, sys, time
t0 = time.perf_counter()
from faster_whisper import WhisperModel
import jiwer
from whisper_normalizer.english import EnglishTextNormalizer
model_dir, folder, rows, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
m = WhisperModel(model_dir, device="cpu", compute_type="float32", cpu_threads=threads)
meta = list(csv.DictReader(open(f"{folder}/metadata.csv")))[:rows]
hyps, refs = [], []
for r in meta:
    segs, _ = m.transcribe(f"{folder}/{r['file_name']}", beam_size=1, language="en", vad_filter=False)
    hyps.append(" ".join(s.text.strip() for s in segs))
    refs.append(r["transcription"])
n = EnglishTextNormalizer()
wer = jiwer.wer([n(x) for x in refs], [n(x) for x in hyps])
print(f"{time.perf_counter() - t0:.2f} {wer:.4f}")
PY
)
pt=$(echo "$peer" | cut -d' ' -f1); pw=$(echo "$peer" | cut -d' ' -f2)
printf 'python: %.2f s wall, WER %s\n' "$pt" "$pw"
printf 'whole evaluation, python/spaceport time: %.2fx (above 1: spaceport faster)\n' "$(echo "$pt / $wall" | bc -l)"
