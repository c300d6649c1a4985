#!/usr/bin/env bash
# Translation speed: spaceport against transformers (PyTorch CPU) and
# CTranslate2 on full-size opus-mt-en-de and opus-mt-tc-big architectures
# with random weights, the same sentences, the same threads, a fixed
# output length; load times and peak memory.
#   [SIZES="base big"] bench/translate.sh [NEW_TOKENS] [BEAMS] [THREADS]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/fixtures/setup.sh
"$FIXTURES_VENV/bin/pip" install -q --disable-pip-version-check ctranslate2==4.8.5
NEW_TOKENS="${1:-32}"; BEAMS="${2:-4}"; THREADS="${3:-2}"
SIZES="${SIZES:-base big}"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cat > "$work/sentences.txt" <<'TXT'
The cat sleeps on the small green table in the garden.
Tomorrow morning my family takes the train to the city.
A big dog runs quickly along the river to the station.
The music in the café is quiet, and the coffee is good.
My friend reads a book about mountains every evening.
TXT
cargo build --quiet --example bench_translate
rate() { awk -v name="$1" '$1 == name {print $2}'; }
for size in $SIZES; do
  say "making the random full-size model ($size) in $work"
  rm -rf "$work/model"
  "$FIXTURES_PYTHON" bench/make_marian_big.py "$work/model" "$NEW_TOKENS" "$BEAMS" "$size" >/dev/null
  say "$size: spaceport ($THREADS threads, $BEAMS beams, $NEW_TOKENS tokens a sentence; tokens a second, higher is faster)"
  sp=""
  for ct in int8 float32; do
    sp+="$(RAYON_NUM_THREADS=$THREADS "$CARGO_TARGET_DIR/debug/examples/bench_translate" "$work/model" "$work/sentences.txt" "$BEAMS" "$ct")"$'\n'
  done
  printf '%s' "$sp"
  peers=$(OMP_NUM_THREADS=$THREADS "$FIXTURES_PYTHON" bench/peer_translate.py "$work/model" "$work/sentences.txt" "$THREADS" "$BEAMS" 2>/dev/null)
  echo "$peers"
  ratio() {
    local s p
    s=$(printf '%s\n%s\n' "$sp" "$peers" | rate "$1"); p=$(echo "$peers" | rate "$2")
    [ -n "$s" ] && [ -n "$p" ] && printf '  %s %s / %s: %.2f (aim ≥ 1)\n' "$size" "$1" "$2" "$(echo "$s / $p" | bc -l)"
    return 0
  }
  for ct in int8 float32; do
    ratio "spaceport-$ct" "ctranslate2-$ct"
    ratio "spaceport-batched-$ct" "ctranslate2-batched-$ct"
  done
  ratio spaceport-float32 transformers
  ratio spaceport-batched-float32 transformers-batched
done
