#!/usr/bin/python3
"""Peak resident memory of a Propagon run against the memory goal of the README's Speed section.

  /usr/bin/python3 scripts/peak_memory.py [--size 4096] [--steps 20] [--build build]

Makes an n x n RGB photo-like PNG (smoothed noise), runs `propagon run` on it (deterministic,
float32, a snapshot every 10 steps) and reports the child's peak RSS next to the bound
1.25 x (two field buffers: 2 x 3 channels x n^2 x 4 bytes) + 100 MB. Needs Debian's python3-numpy
and python3-opencv. Exits 1 if the bound is exceeded.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

try:
    import cv2
    import numpy as np
except ImportError as e:
    sys.exit(f"peak_memory.py: {e}; run it with Debian's /usr/bin/python3 (python3-numpy, python3-opencv)")


def write_photo(path, n):
    # In a function, so its arrays are freed before the run: the forked child's RSS would count
    # them until it execs, and ru_maxrss would report that.
    noise = np.random.default_rng(1).random((n, n, 3), dtype=np.float32)
    img = cv2.GaussianBlur((noise * 255).astype(np.uint8), (0, 0), 3)
    del noise
    cv2.imwrite(path, img)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--build", default="build", help="the build folder holding the propagon program")
    args = ap.parse_args()
    propagon = os.path.join(args.build, "propagon")
    if not os.access(propagon, os.X_OK):
        sys.exit(f"peak_memory.py: {propagon} not found; build first (scripts/build.sh)")
    with tempfile.TemporaryDirectory() as work:
        write_photo(os.path.join(work, "photo.png"), args.size)
        cfg = os.path.join(work, "run.yaml")
        with open(cfg, "w") as f:
            f.write("input: {image: photo.png}\nkernel: {preset: gaussian, size: [3, 3], sigma: 1.0}\n"
                    f"propagation: {{steps: {args.steps}, boundary: periodic}}\noutput: {{every: 10, png: false}}\n")
        # The child's own high-water mark (VmHWM, reset at exec; ru_maxrss of children would also
        # count this Python process's pages, which a forked child holds until it execs).
        child = subprocess.Popen([propagon, "run", cfg, "-q", "--no-progress", "-o", os.path.join(work, "out")])
        peak = 0
        while child.poll() is None:
            try:
                with open(f"/proc/{child.pid}/status") as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            peak = max(peak, int(line.split()[1]) * 1024)
            except OSError:
                pass
            time.sleep(0.02)
        if child.returncode != 0:
            sys.exit(f"peak_memory.py: propagon exited with {child.returncode}")
    fields = 2 * 3 * args.size * args.size * 4
    bound = 1.25 * fields + 100e6
    print(f"{args.size}x{args.size} RGB float32, {args.steps} steps: peak RSS {peak / 1e6:.0f} MB, "
          f"bound 1.25 x {fields / 1e6:.0f} MB + 100 MB = {bound / 1e6:.0f} MB ({100 * peak / bound:.0f}%)")
    sys.exit(0 if peak <= bound else 1)


if __name__ == "__main__":
    main()
