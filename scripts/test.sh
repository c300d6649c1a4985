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
# One test binary (tests/it). The tests named alone_* run afterwards, one
# at a time: those recording the null sink's monitor in real time (no
# other test takes the CPU from under the microphone) and the one that
# measures the process's peak memory.
cargo test -- --test-threads="${SPACEPORT_TEST_THREADS:-4}" --skip alone_
say "cargo test: the tests that run alone"
cargo test --test it -- --test-threads=1 alone_
