#!/usr/bin/env bash
# Builds (or checks) Spaceport's `cuda` feature on a machine without a GPU,
# installing what that needs when it is missing and saying so:
#   - a CUDA 13.0 toolkit from PyPI wheels (nvcc, nvvm, crt, runtime,
#     cccl; pinned: 13.0 is what the GPU machine's driver takes) in the
#     Spaceport cache;
#   - link stubs for the driver, NVRTC, cuBLAS, cuBLASLt and cuRAND when
#     the machine has no NVIDIA driver (each function answers "no device",
#     so the binary starts here and falls back to the CPU);
#   - `cargo build --features cuda --bin spaceport` (or `cargo check
#     --features cuda --all-targets` with `check`) in a target directory of
#     its own, so the CPU build's cache is untouched.
#   - with `carry`, the binaries scripts/gpu-check.sh takes to a GPU
#     machine: `spaceport` and the `it` test binary in the stripped
#     `carry` profile, xz-compressed into gpu-check/bin/ (ignored by git;
#     the whole working tree that travels must stay under 64 MiB).
#   scripts/build-cuda.sh [build|check|carry]
# The kernels are compiled for CUDA_COMPUTE_CAP (default 90: H100/H200).
# The binary: $SPACEPORT_CACHE/target-cuda/debug/spaceport; run it here
# with LD_LIBRARY_PATH="$SPACEPORT_CUDA_STUBS:$CUDA_HOME/lib".
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
MODE="${1:-build}"
setup_system gcc g++
setup_python

CUDA_WHEELS=("nvidia-cuda-nvcc==13.0.88" "nvidia-nvvm==13.0.88" "nvidia-cuda-crt==13.0.88"
  "nvidia-cuda-runtime==13.0.88" "nvidia-cuda-cccl==13.0.85")
toolkit="$SPACEPORT_CACHE/cuda-13.0"
if [ "$(cat "$toolkit/.wheels" 2>/dev/null)" != "${CUDA_WHEELS[*]}" ]; then
  say "installing the CUDA 13.0 toolkit from PyPI into $toolkit (${CUDA_WHEELS[*]})"
  rm -rf "$toolkit"
  "$SPACEPORT_VENV/bin/pip" install -q --disable-pip-version-check --no-deps --target "$toolkit" "${CUDA_WHEELS[@]}"
  echo "${CUDA_WHEELS[*]}" > "$toolkit/.wheels"
fi
export CUDA_HOME="$toolkit/nvidia/cu13"
# nvcc.profile finds the rest of the toolkit relative to nvcc's own folder.
export PATH="$CUDA_HOME/bin:$PATH"
export CUDA_COMPUTE_CAP="${CUDA_COMPUTE_CAP:-90}"
export CUDAFORGE_THREADS="${CUDAFORGE_THREADS:-$(nproc)}"
[ -e "$CUDA_HOME/lib/libcudart.so" ] || ln -s libcudart.so.13 "$CUDA_HOME/lib/libcudart.so"

# Link stubs, made from the names cudarc binds, when there is no driver.
export SPACEPORT_CUDA_STUBS="$CUDA_HOME/lib/stubs"
if ! ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1 ' && [ ! -e "$SPACEPORT_CUDA_STUBS/libcuda.so" ]; then
  say "no NVIDIA driver here: making link stubs in $SPACEPORT_CUDA_STUBS"
  cargo fetch --quiet
  cudarc="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/cudarc-0.19.10 | head -1)"
  mkdir -p "$SPACEPORT_CUDA_STUBS"
  stub() { # stub LIBRARY SONAME FILE [grep -v pattern]
    local c="$SPACEPORT_CUDA_STUBS/$1.c"
    grep -oE '^pub unsafe fn [A-Za-z0-9_]+\(' "$3" | sed -E 's/pub unsafe fn ([A-Za-z0-9_]+)\(/\1/' |
      { if [ -n "${4:-}" ]; then grep -vE "$4"; else cat; fi; } | sort -u |
      awk '{ printf "int %s(void) { return 100; }\n", $1 }' > "$c"
    gcc -shared -fPIC -o "$SPACEPORT_CUDA_STUBS/$2" -Wl,-soname,"$2" "$c"
    ln -sf "$2" "$SPACEPORT_CUDA_STUBS/$1.so"
  }
  stub libcuda libcuda.so.1 "$cudarc/src/driver/sys/mod.rs"
  stub libnvrtc libnvrtc.so.13 "$cudarc/src/nvrtc/sys/mod.rs"
  stub libcublas libcublas.so.13 "$cudarc/src/cublas/sys/mod.rs" '^cublasLt'
  stub libcublasLt libcublasLt.so.13 "$cudarc/src/cublaslt/sys/mod.rs"
  stub libcurand libcurand.so.10 "$cudarc/src/curand/sys/mod.rs"
fi
export LD_LIBRARY_PATH="$SPACEPORT_CUDA_STUBS:$CUDA_HOME/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export CARGO_TARGET_DIR="$SPACEPORT_CACHE/target-cuda"
say "nvcc $(nvcc --version | grep -oE 'release [0-9.]+'), compute capability $CUDA_COMPUTE_CAP, target $CARGO_TARGET_DIR"
case "$MODE" in
  check)
    say "cargo check --features cuda --all-targets"
    cargo check --quiet --features cuda --all-targets
    ;;
  build)
    say "cargo build --features cuda --bin spaceport"
    cargo build --features cuda --bin spaceport
    say "built $CARGO_TARGET_DIR/debug/spaceport ($(du -h "$CARGO_TARGET_DIR/debug/spaceport" | cut -f1))"
    ;;
  carry)
    say "cargo build --profile carry --features cuda --bin spaceport, and the test binary"
    cargo build --profile carry --features cuda --bin spaceport
    test_bin="$(cargo test --profile carry --features cuda --test it --no-run --message-format=json 2>/dev/null |
      python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("target", {}).get("name") == "it" and m.get("executable"):
        print(m["executable"])' | tail -1)"
    [ -x "$test_bin" ] || { say "the test binary was not built"; exit 1; }
    mkdir -p gpu-check/bin gpu-check/like/whisper
    # A Whisper tokenizer for the random-weight Whisper models there.
    setup_models
    cp "$SPACEPORT_WHISPER_CT2/tokenizer.json" "$SPACEPORT_WHISPER_CT2/vocabulary.txt" gpu-check/like/whisper/
    for pair in "spaceport:$CARGO_TARGET_DIR/carry/spaceport" "it:$test_bin"; do
      name="${pair%%:*}"; path="${pair#*:}"
      xz -T0 -6 -c "$path" > "gpu-check/bin/$name.xz"
      say "gpu-check/bin/$name.xz: $(du -h "$path" | cut -f1) → $(du -h "gpu-check/bin/$name.xz" | cut -f1)"
    done
    ;;
  *)
    say "usage: scripts/build-cuda.sh [build|check|carry]"
    exit 2
    ;;
esac
