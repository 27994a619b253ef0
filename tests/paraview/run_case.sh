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
# xvfb-run -a starts its search for a free display at :99, and two runs at once can both pick it:
# start each run's search at a display number of its own.
# A server that another process takes down under us shows as "bad X server connection": one retry
# on a fresh server tells that apart from a real failure.
xvfb() {
  local attempt
  for attempt in 1 2; do
    if xvfb-run -a -n $((100 + ($$ + attempt * 37) % 800)) -s "-screen 0 1280x1024x24" "$@" 2> "$work/xvfb.err"; then
      return 0
    fi
    grep -q "bad X server connection" "$work/xvfb.err" || { cat "$work/xvfb.err" >&2; return 1; }
    echo "xvfb: the X server went away (attempt $attempt)" >&2
  done
  cat "$work/xvfb.err" >&2
  return 1
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
    # A build without Catalyst (no module) refuses a catalyst block with an explanation.
    expect_refusal "has no Catalyst support" env PROPAGON_CATALYST_MODULE= "$propagon" "${base[@]}" \
      --set "catalyst.scripts=[$source/scripts/catalyst/vti.py]"
    ;;
  *)
    echo "unknown case $case_name"
    exit 2
    ;;
esac
echo "$case_name: ok"
