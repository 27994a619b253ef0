#!/usr/bin/python3
"""Propagon against the tools a user would otherwise pick, on the same inputs in the same run.

  /usr/bin/python3 scripts/bench.py [--sizes 2048 4096] [--quick]

For each size: one 3x3 Gaussian step (float32, periodic boundaries) by
  - Propagon's deterministic step (the Google Benchmark binary build/tests/propagon_bench),
  - scipy.ndimage.convolve(mode="wrap"),
  - OpenCV filter2D with the flipped kernel (it correlates), with its default border (reflect-101,
    not periodic) and with a periodic border (copyMakeBorder WRAP + filter2D),
and, for many steps at once, Propagon's spectral mode against a numpy FFT (spectrum x H^steps).
It first checks that all of them compute the same field (Propagon through `propagon run` on an HDF5
input), measures the machine's copy bandwidth (one read and one write: numpy's copy and the C
library's memmove, on plain and on 2 MiB-aligned arrays, before, between and after the timings; the
best of all), and prints throughput in Mpixel-steps/s, Propagon's ratio to each tool, and the share
of the streaming bound (a step reads and writes 8 bytes per float32 pixel). Every tool, the copy
and Propagon are timed as their fastest single pass. Debian packages: python3-numpy python3-scipy
python3-opencv python3-h5py. OPENBLAS_* variables do not matter here (no BLAS is used).
"""
import argparse
import ctypes
import json
import os
import subprocess
import sys
import tempfile
import time

try:
    import cv2
    import h5py
    import numpy as np
    from scipy import ndimage
except ImportError as e:  # pragma: no cover
    sys.exit(f"bench.py needs numpy, scipy, opencv and h5py from Debian ({e}); "
             "apt-get install python3-scipy python3-opencv python3-h5py, and run /usr/bin/python3")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def gaussian3():
    r2 = np.array([[2, 1, 2], [1, 0, 1], [2, 1, 2]], dtype=np.float64)
    p = np.exp(-r2 / 2)
    return p / p.sum()


def best_time(f, repeat=5):
    f()  # warm up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def aligned_empty(n, align=2 << 20):
    """An n x n float32 array starting on a 2 MiB boundary, as Propagon's fields do (streamed_view):
    the copy then gets the same full huge-page backing, and the bound is not a handicapped one."""
    raw = np.empty(n * n * 4 + align, dtype=np.uint8)
    skip = (-raw.ctypes.data) % align
    return raw[skip:skip + n * n * 4].view(np.float32).reshape(n, n)


def copy_bandwidth(n=4096):
    """Bytes read + written per second by a copy of n x n float32: the best of numpy's copy and the C
    library's memmove (streaming stores), each on plain and on 2 MiB-aligned arrays."""
    best = 0.0
    for make in (lambda: np.empty((n, n), dtype=np.float32), lambda: aligned_empty(n)):
        a, b = make(), make()
        a[...] = np.random.rand(n, n)
        for copy in (lambda: np.copyto(b, a), lambda: ctypes.memmove(b.ctypes.data, a.ctypes.data, a.nbytes)):
            best = max(best, 2 * a.nbytes / best_time(copy, 15))
    return best


def opencv_periodic(u, k):
    padded = cv2.copyMakeBorder(u, 1, 1, 1, 1, cv2.BORDER_WRAP)
    return cv2.filter2D(padded, -1, k[::-1, ::-1].copy(), borderType=cv2.BORDER_CONSTANT)[1:-1, 1:-1]


def propagon_bench(binary, filt, repetitions=5):
    """The fastest single iteration over `repetitions` runs of the benchmark: the same statistic as
    best_time() for the other tools and the copy bound (this machine's timings vary by tens of
    percent from run to run)."""
    out = subprocess.run([binary, f"--benchmark_filter={filt}", "--benchmark_format=json", "--benchmark_min_time=0.3",
                          f"--benchmark_repetitions={repetitions}"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, check=True)
    runs = [r for r in json.loads(out.stdout)["benchmarks"] if r.get("run_type", "iteration") == "iteration"]
    if not runs:
        sys.exit(f"bench.py: {binary} has no benchmark matching {filt}")
    return max(r.get("fastest_pixel_steps_per_s", r["pixel_steps_per_s"]) for r in runs)


def check_agreement(propagon, n, work):
    """One step of every tool on the same random field; returns the largest relative difference."""
    rng = np.random.default_rng(1)
    u = rng.random((n, n))
    p = gaussian3()
    with h5py.File(os.path.join(work, "u.h5"), "w") as f:
        f["u"] = u
    cfg = os.path.join(work, "agree.yaml")
    with open(cfg, "w") as f:
        f.write("name: agree\ninput: {hdf5: {file: u.h5, dataset: /u}}\nkernel: {preset: gaussian, sigma: 1}\n"
                "propagation: {steps: 1, boundary: periodic, precision: float64}\noutput: {every: 1}\n")
    subprocess.run([propagon, "run", cfg, "-q", "--no-progress", "-o", os.path.join(work, "agree")], check=True)
    with h5py.File(os.path.join(work, "agree", "snapshots", "step_000001.h5")) as f:
        ours = f["fields/u"][...]
    ref = ndimage.convolve(u, p, mode="wrap")
    fft = np.fft.irfft2(np.fft.rfft2(u) * np.fft.rfft2(np.roll(np.pad(p, ((0, n - 3), (0, n - 3))), (-1, -1), (0, 1))), s=u.shape)
    others = {"propagon": ours, "opencv (periodic)": opencv_periodic(u, p), "numpy fft": fft}
    worst = {name: float(np.abs(v - ref).max() / np.abs(ref).max()) for name, v in others.items()}
    return worst


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[2048, 4096], help="n of the n x n fields of the one-step cases (the benchmark binary has 512, 1024, 2048 and 4096); "
                         "the 8-fused-steps row is 4096 only")
    ap.add_argument("--spectral-steps", type=int, default=1000,
                    help="steps of the 1024 x 1024 spectral case; Propagon's side is timed only at 1000 "
                         "(the benchmark binary's case), numpy's at any count")
    ap.add_argument("--quick", action="store_true", help="the one-step case at 512 x 512 only (the 1024 x 1024 spectral case still runs), for a smoke test")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="the build folder")
    args = ap.parse_args()
    sizes = [512] if args.quick else args.sizes
    propagon = os.path.join(args.build, "propagon")
    bench = os.path.join(args.build, "tests", "propagon_bench")
    for exe in (propagon, bench):
        if not os.path.exists(exe):
            sys.exit(f"bench.py: {exe} is missing; build with scripts/build.sh")

    with tempfile.TemporaryDirectory() as work:
        agreement = check_agreement(propagon, 64, work)
    print("agreement with scipy.ndimage.convolve(mode='wrap'), one step, largest relative difference:")
    for name, d in agreement.items():
        print(f"  {name:<18} {d:.2e}")
    if max(agreement.values()) > 1e-12:
        sys.exit("bench.py: the tools disagree; not timing them")

    # The copy bandwidth of a shared machine drifts while the script runs: it is measured before,
    # between and after the timings, and the highest value makes the bound (the strictest
    # comparison).
    copy_n = 4096  # 2 x 64 MiB: well beyond any cache (a smaller copy measured the cache, not memory)
    copies = [copy_bandwidth(copy_n)]
    rows = []
    p = gaussian3().astype(np.float32)
    for n in sizes:
        u = np.random.default_rng(2).random((n, n), dtype=np.float32)
        # A Gaussian is separable: runs take the 1D-pass path (BM_SeparableStep); the general 2D
        # stencil (any kernel) is shown beside it.
        ours = propagon_bench(bench, f"BM_SeparableStep<float>/n:{n}/k:3/fused:1/boundary:0$")
        general = propagon_bench(bench, f"BM_DeterministicStep<float>/n:{n}/k:3/rank:2/boundary:0$")
        tools = {
            "propagon, general 2D stencil": general,
            "scipy.ndimage.convolve wrap": n * n / best_time(lambda: ndimage.convolve(u, p, mode="wrap"), 3),
            "OpenCV filter2D (reflect-101)": n * n / best_time(lambda: cv2.filter2D(u, -1, p[::-1, ::-1].copy())),
            "OpenCV filter2D periodic": n * n / best_time(lambda: opencv_periodic(u, p)),
        }
        rows.append((f"{n}x{n} one step", ours, tools))
        copies.append(copy_bandwidth(copy_n))
        if n == 4096:
            # Temporal blocking: 8 steps per sweep over the field, counted per step.
            fused = propagon_bench(bench, f"BM_SeparableStep<float>/n:{n}/k:3/fused:8/boundary:0$")
            rows.append((f"{n}x{n} 8 fused steps", fused, {"propagon, one step per sweep": ours,
                                                            "OpenCV filter2D periodic": tools["OpenCV filter2D periodic"]}))
    # Many steps at once: Propagon's spectral mode against numpy's FFT route (1024^2).
    n, steps = 1024, args.spectral_steps
    u = np.random.default_rng(3).random((n, n), dtype=np.float32)
    h = np.fft.rfft2(np.roll(np.pad(gaussian3(), ((0, n - 3), (0, n - 3))), (-1, -1), (0, 1)))

    def numpy_fft():
        return np.fft.irfft2(np.fft.rfft2(u) * h ** steps, s=u.shape)

    if steps == 1000:
        ours = propagon_bench(bench, f"BM_SpectralSteps/n:{n}/steps:{steps}$")
        jump = propagon_bench(bench, f"BM_SpectralJump/n:{n}/steps:{steps}$")
        # The direct path as a run takes it (a 1024^2 field stays in cache: steps are not fused).
        direct = propagon_bench(bench, f"BM_SeparableStep<float>/n:{n}/k:3/fused:8/boundary:0$")
    else:
        ours = jump = direct = float("nan")
    rows.append((f"{n}x{n}, {steps} steps", ours, {
        "numpy FFT (spectrum x H^n)": n * n * steps / best_time(numpy_fft, 3),
        "propagon direct path": direct,
    }))
    rows.append((f"  the jump alone", jump, {"propagon direct path": direct}))

    copies.append(copy_bandwidth(copy_n))
    bandwidth = max(copies)
    bound = bandwidth / 8  # pixel-steps/s if a step only streamed 8 bytes per pixel
    print(f"\ncopy bandwidth (numpy and memmove, read + write, the best of {len(copies)} measurements): {bandwidth / 1e9:.2f} GB/s "
          f"-> streaming bound {bound / 1e6:.0f} Mpixel-steps/s")
    print(f"\n{'case':<24} {'tool':<32} {'Mpix-steps/s':>13} {'propagon / tool':>16}")
    for case, ours, tools in rows:
        share = f"  ({100 * ours / bound:.0f}% of the streaming bound)" if ("one step" in case or "fused" in case) else ""
        print(f"{case:<24} {'propagon':<32} {ours / 1e6:>13.1f} {'':>16}{share}")
        for name, rate in tools.items():
            print(f"{'':<24} {name:<32} {rate / 1e6:>13.1f} {ours / rate:>15.2f}x")


if __name__ == "__main__":
    main()
