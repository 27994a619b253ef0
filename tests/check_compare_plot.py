#!/usr/bin/python3
"""Runs scripts/compare_plot.py on a small synthetic config and checks its outputs: a PNG for each
plot, and a fitted convergence slope near -1/2."""
import json
import os
import subprocess
import sys
import tempfile

source, binary = sys.argv[1], sys.argv[2]
work = tempfile.mkdtemp(prefix="propagon_plot_test_")
config = os.path.join(work, "c.yaml")
with open(config, "w") as f:
    f.write("name: c\ninput: {synthetic: {shape: [40, 40], pattern: checkerboard, period: 4}}\n"
            "kernel: {preset: gaussian}\npropagation: {boundary: reflect}\n")
script = os.path.join(source, "scripts", "compare_plot.py")
png = os.path.join(work, "conv.png")
subprocess.run([sys.executable, script, "--propagon", binary, "convergence", config, "--ppu", "30", "300", "3000",
                "--work", os.path.join(work, "runs"), "-o", png], check=True)
with open(os.path.join(work, "conv.json")) as f:
    slope = json.load(f)["slope"]
assert -0.6 < slope < -0.4, f"fitted slope {slope}, expected about -0.5"
with open(png, "rb") as f:
    assert f.read(8) == b"\x89PNG\r\n\x1a\n", "not a PNG"
steps_png = os.path.join(work, "steps.png")
subprocess.run([sys.executable, script, "--propagon", binary, "steps", os.path.join(work, "runs", "stochastic_300"),
                os.path.join(work, "runs", "deterministic"), "-o", steps_png], check=True)
assert os.path.getsize(steps_png) > 1000
print(f"compare_plot.py: slope {slope:.3f}, plots written")
