#!/usr/bin/env bash
# Runs every check CI runs: formatting, clippy, and all tests (against a
# stand-in Hub on loopback; no network beyond package registries, no GPU).
# Installs missing system packages and the pinned Python test tools first.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
# sox (with MP3) and espeak-ng make the audio the decoding tests read;
# PulseAudio (and its ALSA plugin) stands in for a microphone.
# desktop-file-utils checks the menu entry; the fonts (CJK, Devanagari,
# Arabic) are what the all-scripts test finds through fontconfig.
setup_system sox libsox-fmt-mp3 espeak-ng pulseaudio pulseaudio-utils libasound2-plugins \
  desktop-file-utils fontconfig fonts-droid-fallback fonts-lohit-deva fonts-kacst
setup_cargo_deb
setup_python
setup_models
setup_images
setup_sounds
setup_pulse
say "cargo fmt --check"
cargo fmt --all -- --check
say "cargo clippy --all-targets -- -D warnings"
cargo clippy --quiet --all-targets -- -D warnings
say "cargo test"
# One test binary (tests/it). The tests named alone_* run afterwards, one
# at a time: those recording the null sink's monitor in real time (no
# other test takes the CPU from under the microphone) and the one that
# measures the process's peak memory.
cargo test -- --test-threads="${SPACEPORT_TEST_THREADS:-4}" --skip alone_
say "cargo test: the tests that run alone"
cargo test --test it -- --test-threads=1 alone_
say "scripts/check-install.sh: the menu entry, icons and .deb"
scripts/check-install.sh
