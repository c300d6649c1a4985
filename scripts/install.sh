#!/usr/bin/env bash
# Installs Spaceport for this user, as a desktop app: the program in
# ~/.local/bin (built with `cargo install --path .`), its menu entry in
# $XDG_DATA_HOME/applications (so it appears in the application menu and
# under "Open with" for pictures and recordings) and its icons in
# $XDG_DATA_HOME/icons/hicolor. Nothing needs root.
#
#   scripts/install.sh                 build and install
#   scripts/install.sh --binary PATH   install an already built program
#   scripts/install.sh --uninstall     remove what this script installed
#
# BIN_DIR (default ~/.local/bin) and XDG_DATA_HOME (default
# ~/.local/share) say where things go.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m[spaceport]\033[0m %s\n' "$*" >&2; }

DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
BIN_DIR="${BIN_DIR:-$HOME/.local/bin}"
ICON_SIZES=(16 32 48 64 128 256)
binary="" uninstall=0
while (($#)); do
  case "$1" in
    --binary) binary="$2"; shift 2 ;;
    --uninstall) uninstall=1; shift ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) say "unknown argument: $1 (see --help)"; exit 2 ;;
  esac
done

refresh() {
  # The desktop's caches, where the tools are installed (quietly: a bare
  # window manager has none).
  command -v update-desktop-database >/dev/null && update-desktop-database -q "$DATA/applications" 2>/dev/null || true
  command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$DATA/icons/hicolor" 2>/dev/null || true
}

if ((uninstall)); then
  say "removing Spaceport from $BIN_DIR and $DATA"
  rm -f "$BIN_DIR/spaceport" "$DATA/applications/spaceport.desktop" "$DATA/icons/hicolor/scalable/apps/spaceport.svg"
  for s in "${ICON_SIZES[@]}"; do rm -f "$DATA/icons/hicolor/${s}x${s}/apps/spaceport.png"; done
  refresh
  exit 0
fi

mkdir -p "$BIN_DIR"
if [ -z "$binary" ]; then
  source scripts/setup.sh
  setup_system
  say "building Spaceport (release) and installing it into $BIN_DIR (cargo install --path .)"
  root="$(mktemp -d)"
  cargo install --quiet --locked --path . --root "$root"
  install -m 755 "$root/bin/spaceport" "$BIN_DIR/spaceport"
  rm -rf "$root"
else
  [ -x "$binary" ] || { say "$binary is not a program"; exit 1; }
  say "installing $binary into $BIN_DIR"
  install -m 755 "$binary" "$BIN_DIR/spaceport"
fi

say "adding the menu entry and icons to $DATA"
mkdir -p "$DATA/applications" "$DATA/icons/hicolor/scalable/apps"
# The entry runs the installed program by its full path: ~/.local/bin is
# not on every desktop session's PATH.
exe="$(cd "$BIN_DIR" && pwd)/spaceport"
sed -e "s|^Exec=spaceport |Exec=\"$exe\" |" -e "s|^TryExec=spaceport|TryExec=$exe|" \
  assets/spaceport.desktop > "$DATA/applications/spaceport.desktop"
install -m 644 assets/icons/spaceport.svg "$DATA/icons/hicolor/scalable/apps/spaceport.svg"
for s in "${ICON_SIZES[@]}"; do
  install -D -m 644 "assets/icons/spaceport-$s.png" "$DATA/icons/hicolor/${s}x${s}/apps/spaceport.png"
done
refresh
say "done: Spaceport is in the application menu; run it as $exe"
