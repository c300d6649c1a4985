#!/usr/bin/env bash
# Our resampler beside rubato's (sinc and FFT) on test tones: passband,
# aliasing and the time to turn a minute of 44.1/48 kHz audio into 16 kHz.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
cargo run --quiet --example resampler_compare
