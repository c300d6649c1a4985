#!/usr/bin/env bash
# Runs every check CI runs: formatting, clippy, and all tests (against a
# stand-in Hub on loopback; no network beyond package registries, no GPU).
# Installs missing system packages and the pinned Python test tools first.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
# sox (with MP3) and espeak-ng make the audio the decoding tests read;
# PulseAudio (and its ALSA plugin) stands in for a microphone.
setup_system sox libsox-fmt-mp3 espeak-ng pulseaudio pulseaudio-utils libasound2-plugins
setup_python
setup_models
setup_images
setup_pulse
say "cargo fmt --check"
cargo fmt --all -- --check
say "cargo clippy --all-targets -- -D warnings"
cargo clippy --quiet --all-targets -- -D warnings
say "cargo test"
cargo test -- --test-threads="${SPACEPORT_TEST_THREADS:-4}"
