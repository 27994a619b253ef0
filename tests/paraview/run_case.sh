#!/usr/bin/env bash
# The ParaView and Catalyst checks, one CTest case each:
#   run_case.sh CASE PROPAGON SOURCE_DIR
# Runs need a display only for rendering; those go through xvfb-run.
set -euo pipefail
case_name=$1
propagon=$2
source=$3
here="$source/tests/paraview"
work=$(mktemp -d /tmp/propagon_paraview_XXXXXX)
trap 'rm -rf "$work"' EXIT
# A private X server per command. xvfb-run's display search and its authorisation files were seen to
# fail when several ran at once, and so did picking a free number ourselves (two cases could pick
# the same one). Xvfb -displayfd chooses the display itself, under its own lock, and writes the
# number once it accepts clients; no authorisation file (local clients only: -nolisten tcp).
start_xvfb() {  # sets display and server
  local fdfile="$work/xvfb-display.$BASHPID.$1"
  : > "$fdfile"
  Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp 3> "$fdfile" > "$work/xvfb.$BASHPID.$1.log" 2>&1 &
  server=$!
  for _ in $(seq 1 400); do [ -s "$fdfile" ] && break; sleep 0.05; done
  display=$(tr -dc '0-9' < "$fdfile")
  if [ -z "$display" ]; then echo "Xvfb did not start:"; cat "$work/xvfb.$BASHPID.$1.log"; kill "$server" 2> /dev/null || true; return 1; fi
}
stop_xvfb() {
  kill "$server" 2> /dev/null || true
  wait "$server" 2> /dev/null || true
}
xvfb() {
  local attempt rc
  # On this shared VM a fresh Xvfb now and then refuses its first client ("bad X server
  # connection"); that, and only that, is retried once on a new server.
  for attempt in 1 2; do
    start_xvfb "$attempt"
    rc=0
    DISPLAY=":$display" "$@" 2> >(tee "$work/xvfb-client.err" >&2) || rc=$?
    stop_xvfb
    if [ $rc -ne 0 ] && [ "$attempt" = 1 ] && grep -q "bad X server connection" "$work/xvfb-client.err"; then
      echo "(the X server refused the connection; retrying once on a new one)" >&2
      continue
    fi
    return $rc
  done
}
expect_refusal() {  # exit 2, the message, and no output folder
  local message=$1
  shift
  set +e
  "$@" > "$work/out.txt" 2>&1
  local rc=$?
  set -e
  if [ $rc -ne 2 ]; then echo "expected exit 2, got $rc from: $*"; cat "$work/out.txt"; exit 1; fi
  grep -q -- "$message" "$work/out.txt" || { echo "expected '$message' in:"; cat "$work/out.txt"; exit 1; }
  if [ -e "$work/refused" ]; then echo "a refused run wrote $work/refused"; exit 1; fi
}

case "$case_name" in
  xdmf_photo)
    "$propagon" run "$source/configs/default.yaml" -q --no-progress -o "$work/run" --set propagation.steps=20 --set output.png=false
    pvpython "$here/check_xdmf.py" "$work/run" astronaut-gaussian
    ;;
  xdmf_volume_stochastic)
    cat > "$work/v.yaml" <<YAML
name: vol
input:
  synthetic: {shape: [6, 10, 12], pattern: gaussian, at: [2, 3, 4], sigma: 2}
  spacing: [0.5, 1, 2]
  origin: [1, 2, 3]
propagation: {mode: stochastic, steps: 4, replicates: 2}
output: {every: 2}
YAML
    "$propagon" run "$work/v.yaml" -q --no-progress -o "$work/run"
    pvpython "$here/check_xdmf.py" "$work/run" vol
    ;;
  render)
    "$propagon" run "$source/configs/default.yaml" -q --no-progress -o "$work/run" --set propagation.steps=20 --set output.png=false
    xvfb pvbatch "$source/scripts/paraview/render.py" "$work/run" --channel rgb --output "$work/rgb" --size 320 320
    pvpython "$here/check_catalyst.py" frames "$work/rgb" 3
    xvfb pvbatch "$source/scripts/paraview/render.py" "$work/run/astronaut-gaussian.xmf" --channel g --output "$work/g" --size 320 320 --no-mp4
    pvpython "$here/check_catalyst.py" frames "$work/g" 3
    if command -v ffmpeg > /dev/null; then test -s "$work/rgb/astronaut-gaussian_rgb.mp4"; fi
    ;;
  catalyst_vti)
    cat > "$work/c.yaml" <<YAML
name: cat
input: {synthetic: {shape: [20, 30], pattern: gaussian, sigma: 4}}
propagation: {mode: stochastic, steps: 6, replicates: 2, particles_per_unit: 1000}
output: {every: 2}
catalyst: {scripts: [$source/scripts/catalyst/vti.py], every: 2}
YAML
    "$propagon" run "$work/c.yaml" -q --no-progress -o "$work/run"
    pvpython "$here/check_catalyst.py" vti "$work/run"
    "$propagon" run "$source/configs/default.yaml" -q --no-progress -o "$work/photo" --set propagation.steps=4 \
      --set output.every=2 --set output.png=false --set "catalyst.scripts=[$source/scripts/catalyst/vti.py]" --set catalyst.every=2
    pvpython "$here/check_catalyst.py" vti "$work/photo"
    ;;
  catalyst_png)
    xvfb "$propagon" run "$source/configs/default.yaml" -q --no-progress -o "$work/run" --set propagation.steps=6 \
      --set output.png=false --set "catalyst.scripts=[$source/scripts/catalyst/png.py]" --set catalyst.every=3
    pvpython "$here/check_catalyst.py" png "$work/run"
    ;;
  catalyst_errors)
    printf 'from paraview.simple import *\nproducer = TrivialProducer(registrationName="input"\n' > "$work/syntax.py"
    printf 'from paraview.simple import *\nproducer = TrivialProducer(registrationName="grid")\n' > "$work/name.py"
    printf 'from paraview.simple import *\nimport no_such_module\nTrivialProducer(registrationName="input")\n' > "$work/import.py"
    base=(run "$source/configs/default.yaml" -q --no-progress -o "$work/refused" --set propagation.steps=2)
    expect_refusal "failed its check" "$propagon" "${base[@]}" --set "catalyst.scripts=[$work/syntax.py]"
    expect_refusal "no TrivialProducer(registrationName='input')" "$propagon" "${base[@]}" --set "catalyst.scripts=[$work/name.py]"
    expect_refusal "No module named 'no_such_module'" "$propagon" "${base[@]}" --set "catalyst.scripts=[$work/import.py]"
    expect_refusal "script not found" "$propagon" "${base[@]}" --set "catalyst.scripts=[$work/missing.py]"
    # png.py renders: without a display it is refused before anything is written.
    expect_refusal "no DISPLAY is set" env -u DISPLAY "$propagon" "${base[@]}" --set "catalyst.scripts=[$source/scripts/catalyst/png.py]"
    # png.py draws pictures: a 1D run is refused at its first frame (exit 2, before any step).
    set +e
    xvfb "$propagon" run "$source/configs/timeseries-1d.yaml" -q --no-progress -o "$work/line" --set propagation.steps=2 \
      --set "catalyst.scripts=[$source/scripts/catalyst/png.py]" > "$work/line.txt" 2>&1
    rc=$?
    set -e
    [ $rc -eq 2 ] && grep -q "png.py draws 2D and 3D grids" "$work/line.txt" || { echo "1D png.py: rc $rc"; cat "$work/line.txt"; exit 1; }
    grep -q "before its first step" "$work/line.txt"
    # A build without Catalyst (no module) refuses a catalyst block with an explanation.
    expect_refusal "has no Catalyst support" env PROPAGON_CATALYST_MODULE= "$propagon" "${base[@]}" \
      --set "catalyst.scripts=[$source/scripts/catalyst/vti.py]"
    ;;
  catalyst_stop)
    # SIGINT still finishes the step and writes the final snapshot while Catalyst runs.
    "$propagon" run "$source/configs/volume-3d.yaml" -q --no-progress -o "$work/run" --set propagation.steps=1000000 \
      --set output.every=1000000 --set "catalyst.scripts=[$source/scripts/catalyst/vti.py]" --set catalyst.every=1000000 \
      2> "$work/err.txt" &
    pid=$!
    for _ in $(seq 1 200); do [ -e "$work/run/snapshots/step_000000.h5" ] && break; sleep 0.1; done
    sleep 1
    kill -INT $pid
    set +e
    wait $pid
    rc=$?
    set -e
    [ $rc -eq 130 ] || { echo "expected exit 130, got $rc"; cat "$work/err.txt"; exit 1; }
    grep -q "continue with:" "$work/err.txt"
    [ "$(ls "$work/run/snapshots" | wc -l)" -eq 2 ] || { ls "$work/run/snapshots"; exit 1; }
    ;;
  *)
    echo "unknown case $case_name"
    exit 2
    ;;
esac
echo "$case_name: ok"
