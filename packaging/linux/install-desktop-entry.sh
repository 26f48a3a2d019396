#!/bin/sh
# Adds this unpacked Vidi folder to your desktop's application menu (for you only, no root needed): a .desktop file
# in ~/.local/share/applications and the icon in ~/.local/share/icons. Run it again after moving the folder.
#   ./install-desktop-entry.sh              add
#   ./install-desktop-entry.sh --uninstall  remove
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=${XDG_DATA_HOME:-$HOME/.local/share}
SIZES="16 24 32 48 64 128 256 512"

if [ "${1:-}" = "--uninstall" ]; then
    rm -f "$DATA/applications/vidi.desktop"
    for size in $SIZES; do rm -f "$DATA/icons/hicolor/${size}x${size}/apps/vidi.png"; done
    echo "Vidi removed from the application menu."
    exit 0
fi

for size in $SIZES; do
    mkdir -p "$DATA/icons/hicolor/${size}x${size}/apps"
    cp "$HERE/icons/vidi-$size.png" "$DATA/icons/hicolor/${size}x${size}/apps/vidi.png"
done
mkdir -p "$DATA/applications"
sed -e "s|^Exec=vidi|Exec=\"$HERE/vidi\"|" -e "s|^TryExec=vidi|TryExec=$HERE/vidi|" \
    "$HERE/vidi.desktop" > "$DATA/applications/vidi.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$DATA/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$DATA/icons/hicolor" 2>/dev/null || true
echo "Vidi added to the application menu ($DATA/applications/vidi.desktop)."
