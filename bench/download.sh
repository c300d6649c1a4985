#!/usr/bin/env bash
# Download throughput: spaceport against curl on the same 200 MB file from
# the stand-in Hub in the same run, and the time from start to the first
# painted frame of the window (under Xvfb when there is no display).
#   bench/download.sh [MB]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
setup_system xvfb xauth bc
MB="${1:-200}"
# The test profile: dependencies optimised (Cargo.toml), one shared build.
cargo build --quiet --bin spaceport --example standin_hub --example ui_during_download
BIN="$CARGO_TARGET_DIR/debug"
work="$(mktemp -d)"
trap 'kill $hub_pid 2>/dev/null || true; rm -rf "$work"' EXIT
"$BIN/examples/standin_hub" --mb "$MB" > "$work/hub.txt" &
hub_pid=$!
for _ in $(seq 200); do grep -q '^repo' "$work/hub.txt" 2>/dev/null && break; sleep 0.1; done
endpoint=$(awk '/^endpoint/{print $2}' "$work/hub.txt")
file_url=$(awk '/^file/{print $2}' "$work/hub.txt")

runs=5; curl_t=(); sp_t=()
for run in $(seq $runs); do
  t0=$(date +%s.%N)
  curl -s -o "$work/curl.bin" "$file_url"
  t1=$(date +%s.%N)
  rm -rf "$work/cache"
  HF_ENDPOINT="$endpoint" HF_HUB_CACHE="$work/cache" HF_HUB_DISABLE_IMPLICIT_TOKEN=1 \
    "$BIN/spaceport" download bench/big-model >/dev/null 2>&1
  t2=$(date +%s.%N)
  curl_t+=("$(echo "$t1 - $t0" | bc -l)"); sp_t+=("$(echo "$t2 - $t1" | bc -l)")
  printf 'run %d: curl %.2f s, spaceport %.2f s\n' "$run" "${curl_t[-1]}" "${sp_t[-1]}"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mc=$(median "${curl_t[@]}"); ms=$(median "${sp_t[@]}")
printf 'median of %d: curl %.0f MB/s, spaceport %.0f MB/s (spaceport includes its API calls, process start and sha256 verification)\n' \
  "$runs" "$(echo "$MB / $mc" | bc -l)" "$(echo "$MB / $ms" | bc -l)"
printf 'throughput ratio spaceport/curl: %.2f (aim >= 0.9)\n' "$(echo "$mc / $ms" | bc -l)"

export HF_HUB_CACHE="$work/cache" HF_ENDPOINT="$endpoint"
for run in 1 2 3; do
  if [ -n "${DISPLAY:-}" ]; then
    "$BIN/spaceport" --first-frame-probe
  else
    xvfb-run -a -s "-screen 0 1280x800x24" "$BIN/spaceport" --first-frame-probe
  fi
done 2>/dev/null | sed 's/^/window: /'

# How long the UI thread spends per frame while 1 GB downloads.
"$BIN/examples/ui_during_download" --mb "${UI_MB:-1000}"
