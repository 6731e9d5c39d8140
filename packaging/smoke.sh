#!/usr/bin/env bash
# Smoke test of the frozen app (run by .ci/run after the tests): build it, run it, run a session
# on the simulated belt offscreen, check its screenshot, unpack the .deb and run that, and fail
# when the onedir is over its size budget. Prints the figures; ends with a `smoke: N passed, N failed` line.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUDGET_MB=${SENSORAPP_SIZE_BUDGET_MB:-230}   # onedir budget; measured 183 MB on Debian 12 x86_64
VERSION=$(sed -n 's/^__version__ = "\(.*\)"/\1/p' sensorapp/__init__.py)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sensorapp-smoke.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
passed=0; failed=0
ok() { echo "smoke: ok   $1"; passed=$((passed + 1)); }
bad() { echo "smoke: FAIL $1"; failed=$((failed + 1)); }
finish() { echo "smoke: $passed passed, $failed failed"; [ "$failed" = 0 ]; exit $?; }

# 1. build
start=$(date +%s)
if bash packaging/build.sh; then ok "build in $(( $(date +%s) - start )) s"; else bad "build.sh failed"; finish; fi
APP=dist/sensorapp/sensorapp
PY=build/venv/bin/python

# 2. size budget, and where the size goes
size_mb=$(( $(du -sk dist/sensorapp | cut -f1) / 1024 ))
echo "smoke: onedir $size_mb MB; biggest parts:"
# (du counts a file once per call: the Qt libraries are measured apart from the rest)
{ du -sk dist/sensorapp/_internal/PySide6/Qt/lib/*; du -sk --exclude=PySide6 dist/sensorapp/_internal/*; } | sort -rn | head -10 \
  | awk '{printf "         %6.1f MB  %s\n", $1 / 1024, $2}'
if [ "$size_mb" -le "$BUDGET_MB" ]; then ok "onedir $size_mb MB within the $BUDGET_MB MB budget"
else bad "onedir $size_mb MB is over the $BUDGET_MB MB budget"; fi

# About's licences in the bundle: the LGPL/GPL texts for Qt, and each bundled part's metadata.
missing=""
for f in sensorapp/licence_texts/LGPL-3.0.txt sensorapp/licence_texts/GPL-3.0.txt; do
  [ -s "dist/sensorapp/_internal/$f" ] || missing="$missing $f"
done
for d in pyside6_essentials shiboken6 pyqtgraph numpy bleak qasync platformdirs pylsl; do
  ls -d dist/sensorapp/_internal/${d}-*.dist-info >/dev/null 2>&1 || missing="$missing $d-*.dist-info"
done
if [ -z "$missing" ]; then ok "licence texts and $(ls -d dist/sensorapp/_internal/*.dist-info | wc -l) packages' metadata (About) are in the bundle"
else bad "the bundle lacks$missing"; fi

# 3. --version, and start-up time against the interpreter running the checkout
out=$("$APP" --version 2>&1); rc=$?
if [ $rc = 0 ] && [ "$out" = "sensorapp $VERSION" ]; then ok "--version prints '$out'"
else bad "--version gave exit $rc and '$out'"; fi
ref_py=.venv/bin/python; [ -x "$ref_py" ] || ref_py=$PY
"$PY" - "$APP" "$ref_py" <<'TIMING'
import os, statistics, subprocess, sys, time
app, ref_py = sys.argv[1], sys.argv[2]
env = dict(os.environ, PYTHONPATH=os.getcwd())
def median_s(cmd):
    runs = []
    for _ in range(7):
        t = time.perf_counter(); subprocess.run(cmd, check=True, capture_output=True, env=env); runs.append(time.perf_counter() - t)
    return statistics.median(runs)
frozen, ref = median_s([app, "--version"]), median_s([ref_py, "-m", "sensorapp", "--version"])
print(f"smoke: start-up (--version, median of 7): frozen {frozen:.3f} s, python -m sensorapp {ref:.3f} s, ratio {frozen / ref:.2f}")
TIMING

# 4. a session on the simulated belt, offscreen (never a real window, never the user's store)
shot="$WORK/shot.png"
start=$(date +%s)
# No display: the app's own headless path (offscreen, narrated in the terminal) is what runs.
# The cues go through the system's ALSA into a WAV (its `file` plugin over `null`: no sound card here).
cues="$WORK/cues.wav"
env -u DISPLAY -u WAYLAND_DISPLAY -u QT_QPA_PLATFORM SENSORAPP_CONFIG_DIR="$WORK/config" \
  SENSORAPP_SOUND=1 SENSORAPP_ALSA_DEVICE="file:FILE=$cues,FORMAT=wav" timeout 300 "$APP" --data-dir "$WORK/data" \
  --simulate --speed 5 --exit-after 30 --screenshot "$shot" >"$WORK/session.out" 2>"$WORK/session.err"
rc=$?
if [ $rc = 0 ]; then ok "simulated session exits 0 after $(( $(date +%s) - start )) s ($(grep -c 'Rep ' "$WORK/session.out") narrated lines)"
else bad "simulated session exit code $rc: $(tail -n 3 "$WORK/session.err" | tr '\n' ' ')"; fi
if desc=$("$PY" packaging/check_png.py "$shot"); then ok "screenshot is a real PNG ($desc, $(( $(wc -c <"$shot") / 1024 )) KiB)"
else bad "screenshot check failed"; fi
# The frozen app's cues: ticks (880 Hz) and target tones (1320 Hz) in the WAV ALSA wrote.
if desc=$("$PY" - "$cues" <<'CUES'
import sys, wave
import numpy as np
with wave.open(sys.argv[1]) as w:
    rate, x = w.getframerate(), np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(float)
spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
freqs = np.fft.rfftfreq(x.size, 1 / rate)
tick = spectrum[(freqs > 860) & (freqs < 900)].max(); target = spectrum[(freqs > 1300) & (freqs < 1340)].max()
noise = np.median(spectrum)
assert x.size > rate * 0.5 and tick > 100 * noise and target > 100 * noise, (x.size, tick / noise, target / noise)
print(f"{x.size / rate:.2f} s of cues at {rate} Hz, 880 Hz and 1320 Hz peaks {tick / noise:.0f}x and {target / noise:.0f}x the median")
CUES
); then ok "cues played through ALSA by the frozen app: $desc"
else bad "no cues in $cues (sound backend in the frozen app)"; fi

# 5. the .deb: unpack into a throwaway root and run the installed app from there
deb="dist/sensorapp_${VERSION}_$(dpkg --print-architecture 2>/dev/null).deb"
if command -v dpkg-deb >/dev/null 2>&1; then
  root="$WORK/root"
  if dpkg-deb -x "$deb" "$root" && out=$("$root/opt/sensorapp/sensorapp" --version 2>&1) && [ "$out" = "sensorapp $VERSION" ] \
     && [ "$(readlink "$root/usr/bin/sensorapp")" = /opt/sensorapp/sensorapp ] \
     && [ -f "$root/usr/share/applications/io.github.sensorapp.desktop" ] \
     && [ -f "$root/usr/share/metainfo/io.github.sensorapp.metainfo.xml" ] \
     && [ -f "$root/usr/share/icons/hicolor/scalable/apps/io.github.sensorapp.svg" ] \
     && [ -f "$root/usr/share/icons/hicolor/48x48/apps/io.github.sensorapp.png" ]; then
    ok "$deb ($(( $(wc -c <"$deb") / 1048576 )) MB) unpacks; /opt/sensorapp/sensorapp --version runs; desktop file, metainfo, icons in place"
  else bad "$deb: unpack, --version or installed files wrong"; fi
fi
finish
