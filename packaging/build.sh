#!/usr/bin/env bash
# Build the frozen app (PyInstaller onedir) into dist/sensorapp/, and on Debian/Ubuntu the package
# dist/sensorapp_<version>_<arch>.deb. Installs what it needs; caches only inside the checkout
# (build/) apart from pip's own cache. Usage: bash packaging/build.sh [--no-deb]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
make_deb=1
[ "${1:-}" = "--no-deb" ] && make_deb=0

VERSION=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' sensorapp/__init__.py)
PY=${PYTHON:-python3}
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
is_debian=0; command -v dpkg-deb >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && is_debian=1

# System tools: dpkg-deb for the package, the validators for the desktop files.
if [ "$is_debian" = 1 ]; then
  need=()
  command -v desktop-file-validate >/dev/null 2>&1 || need+=(desktop-file-utils)
  command -v appstreamcli >/dev/null 2>&1 || need+=(appstream)
  command -v objdump >/dev/null 2>&1 || need+=(binutils)   # PyInstaller reads ELF dependencies with it
  if [ ${#need[@]} -gt 0 ]; then
    echo "build: installing ${need[*]}"
    $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
fi

# A build venv with exactly the app's pinned dependencies plus PyInstaller (nothing from dev.lock,
# so nothing from the test tools can end up in the bundle).
VENV=build/venv
if [ ! -x "$VENV/bin/pyinstaller" ] || ! cmp -s requirements/app.lock "$VENV/app.lock"; then
  echo "build: creating $VENV"
  rm -rf "$VENV"
  "$PY" -m venv "$VENV"
  "$VENV/bin/pip" install -q -r requirements/app.lock -r packaging/requirements.txt
  cp requirements/app.lock "$VENV/app.lock"
fi
BIN="$VENV/bin"; [ -d "$VENV/Scripts" ] && BIN="$VENV/Scripts"   # Windows (Git Bash)

start=$(date +%s)
export PYINSTALLER_CONFIG_DIR="$ROOT/build/pyinstaller-config"   # its binary cache stays in the checkout
"$BIN/pyinstaller" --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller \
  packaging/sensorapp.spec
if [ "$(uname -s)" = Linux ] && command -v strip >/dev/null 2>&1; then
  # Debug symbols are half of libpython and the Qt libraries. Not the auditwheel-repaired folders
  # (numpy.libs/ and the like): strip breaks their patched ELF headers ("not page-aligned").
  find dist/sensorapp -type f \( -name '*.so' -o -name '*.so.*' \) -not -path '*.libs/*' \
    -exec strip --strip-unneeded {} + 2>/dev/null || true
fi
echo "build: frozen app in dist/sensorapp/ ($(du -sh dist/sensorapp | cut -f1)) in $(( $(date +%s) - start )) s"

[ "$is_debian" = 1 ] && [ "$make_deb" = 1 ] || exit 0

# --- Debian package ---
desktop-file-validate packaging/linux/io.github.sensorapp.desktop
appstreamcli validate --no-net --pedantic packaging/linux/io.github.sensorapp.metainfo.xml >/dev/null
ARCH=$(dpkg --print-architecture)
PKG=build/deb/sensorapp
rm -rf build/deb && mkdir -p "$PKG/DEBIAN" "$PKG/opt" "$PKG/usr/bin" "$PKG/usr/share/applications" \
  "$PKG/usr/share/metainfo" "$PKG/usr/share/doc/sensorapp"
cp -a dist/sensorapp "$PKG/opt/sensorapp"
ln -s /opt/sensorapp/sensorapp "$PKG/usr/bin/sensorapp"
install -m 644 packaging/linux/io.github.sensorapp.desktop "$PKG/usr/share/applications/"
install -m 644 packaging/linux/io.github.sensorapp.metainfo.xml "$PKG/usr/share/metainfo/"
for png in packaging/linux/icons/io.github.sensorapp-*.png; do
  size=$(basename "$png" .png); size=${size##*-}
  install -D -m 644 "$png" "$PKG/usr/share/icons/hicolor/${size}x${size}/apps/io.github.sensorapp.png"
done
install -D -m 644 packaging/linux/io.github.sensorapp.svg "$PKG/usr/share/icons/hicolor/scalable/apps/io.github.sensorapp.svg"
cat > "$PKG/usr/share/doc/sensorapp/copyright" <<COPY
sensorapp $VERSION: MIT licence.
Bundled: Python (PSF licence), Qt 6 and PySide6 (LGPL-3.0), numpy and OpenBLAS (BSD), pyqtgraph (MIT),
qasync (BSD-2-Clause), bleak and bleak-retry-connector (MIT), dbus-fast (MIT), platformdirs (MIT), pylsl (MIT),
bluetooth-adapters (Apache-2.0). Their metadata (licence names; licence texts where the wheels ship them) is in
/opt/sensorapp/_internal/*.dist-info/; the LGPL-3.0 and GPL-3.0 texts (for Qt and PySide6, whose wheels ship
none) in /opt/sensorapp/_internal/sensorapp/licence_texts/. The app's About dialog lists them all.
COPY
installed_kb=$(du -sk "$PKG" | cut -f1)
# The bundle brings its own Qt and Python and most libraries PyInstaller found on the build machine;
# what it leaves to the system (ldd over the onedir, mapped with dpkg -S): the C library, GL/EGL,
# libxcb, Wayland's client; and what Qt's xcb plugin needs that is often missing on minimal installs
# (without them Qt aborts on X11), so apt brings them. Wayland cursors/EGL and GTK3 (native dialogs)
# are optional. libasound2: the sound cues go through the system's ALSA (ctypes, not bundled; the
# t64 renames of Debian 13 and Ubuntu 24.04 provide the old name).
cat > "$PKG/DEBIAN/control" <<CTRL
Package: sensorapp
Version: $VERSION
Architecture: $ARCH
Maintainer: The sensorapp developers <sensorapp@users.noreply.github.com>
Installed-Size: $installed_kb
Section: science
Priority: optional
Depends: libc6 (>= 2.28), libgl1, libegl1, libxcb1, libwayland-client0, libasound2
Recommends: libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1, libwayland-cursor0, libwayland-egl1, bluez
Suggests: libgtk-3-0
Description: guided isometric hip holds with a Bluetooth load-cell belt
 Desktop companion for a BLE load cell in an ankle belt: guides the patient through
 6-second holds rep by rep from what the belt measures, and gives the therapist
 per-rep holds, left/right symmetry and exports. Bundles its own Python and Qt.
CTRL
cat > "$PKG/DEBIAN/postinst" <<'POST'
#!/bin/sh
set -e
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q /usr/share/applications || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t /usr/share/icons/hicolor || true
POST
cp "$PKG/DEBIAN/postinst" "$PKG/DEBIAN/postrm"
chmod 755 "$PKG/DEBIAN/postinst" "$PKG/DEBIAN/postrm"
DEB="dist/sensorapp_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zxz -z1 --build "$PKG" "$DEB" >/dev/null
echo "build: $DEB ($(du -h "$DEB" | cut -f1)) in $(( $(date +%s) - start )) s since the freeze started"
