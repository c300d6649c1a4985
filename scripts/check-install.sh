#!/usr/bin/env bash
# Checks that Spaceport installs like a desktop app, from the test build
# (no second build): scripts/install.sh into a temporary XDG_DATA_HOME
# gives a menu entry that desktop-file-validate accepts, whose MimeType
# lists the picture and audio types, and icons of every size; the .deb
# that `cargo deb` makes from Cargo.toml's metadata unpacks into a bare
# folder (dpkg -x) with the entry and icons, and its program runs there.
# Called by scripts/test.sh; needs desktop-file-utils and cargo-deb.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m[spaceport]\033[0m %s\n' "$*" >&2; }
fail() { say "check-install: $*"; exit 1; }

target="${CARGO_TARGET_DIR:-target}"
bin="$target/debug/spaceport"
[ -x "$bin" ] || fail "$bin is not built (run cargo build first)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

say "check-install: scripts/install.sh into a temporary XDG_DATA_HOME"
XDG_DATA_HOME="$tmp/share" BIN_DIR="$tmp/bin" scripts/install.sh --binary "$bin" >/dev/null 2>&1 \
  || fail "install.sh failed"
version="$("$tmp/bin/spaceport" --version)"
[[ "$version" == "spaceport "* ]] || fail "the installed program does not run"
entry="$tmp/share/applications/spaceport.desktop"
desktop-file-validate "$entry" || fail "the installed menu entry does not validate"
grep -q "^Exec=\"$tmp/bin/spaceport\" %F$" "$entry" || fail "Exec does not run the installed program: $(grep ^Exec "$entry")"
mime="$(grep '^MimeType=' "$entry")"
for t in image/jpeg image/png audio/wav audio/mpeg audio/flac audio/ogg; do
  [[ "$mime" == *"$t;"* ]] || fail "MimeType lacks $t"
done
for s in 16 32 48 64 128 256; do
  f="$tmp/share/icons/hicolor/${s}x${s}/apps/spaceport.png"
  [ -f "$f" ] || fail "no ${s}x${s} icon"
  python3 - "$f" "$s" <<'PY' || fail "the ${s}x${s} icon is not a ${s}x${s} PNG"
import struct, sys
head = open(sys.argv[1], "rb").read(24)
assert head[:8] == b"\x89PNG\r\n\x1a\n"
assert struct.unpack(">II", head[16:24]) == (int(sys.argv[2]),) * 2
PY
done
XDG_DATA_HOME="$tmp/share" BIN_DIR="$tmp/bin" scripts/install.sh --uninstall >/dev/null 2>&1
[ ! -e "$entry" ] && [ ! -e "$tmp/bin/spaceport" ] || fail "--uninstall left files behind"

say "check-install: cargo deb from the test build, unpacked into a bare folder"
command -v cargo-deb >/dev/null || fail "cargo-deb is missing (scripts/test.sh installs it)"
cargo deb --no-build --profile dev --strip --fast --quiet --output "$tmp/deb" >/dev/null \
  || fail "cargo deb failed"
deb="$(ls "$tmp"/deb/*.deb)"
dpkg-deb --field "$deb" Package Version Depends | sed 's/^/  /' >&2
contents="$(dpkg-deb --contents "$deb")"
[[ "$contents" == *"./usr/share/applications/spaceport.desktop"* ]] || fail "the .deb has no menu entry"
mkdir "$tmp/root"
dpkg -x "$deb" "$tmp/root"
desktop-file-validate "$tmp/root/usr/share/applications/spaceport.desktop" || fail "the packaged entry does not validate"
[ -f "$tmp/root/usr/share/icons/hicolor/scalable/apps/spaceport.svg" ] || fail "the .deb has no scalable icon"
help="$("$tmp/root/usr/bin/spaceport" --help)"
[[ "$help" == *"Pictures or recordings to open"* ]] || fail "the packaged program does not run"
say "check-install: passed ($(du -h "$deb" | cut -f1) package)"
