#!/usr/bin/env bash
# Builds and opens Spaceport against the real Hugging Face Hub, installing
# missing system packages first. Arguments go to spaceport, e.g.
#   scripts/run.sh                    the window
#   scripts/run.sh search whisper     a CLI command
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
setup_system
say "building (the first build takes a while; later ones are quick)"
cargo build --quiet --bin spaceport
exec "$CARGO_TARGET_DIR/debug/spaceport" "$@"
