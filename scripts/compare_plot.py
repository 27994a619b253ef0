#!/usr/bin/python3
"""Plots how far stochastic runs are from the deterministic field (headless, to PNG).

  compare_plot.py steps A B [-o error_vs_step.png]
      A and B are run folders (or snapshots), as for `propagon compare`: relative L2 error and
      max |z| against the step.

  compare_plot.py convergence CONFIG [--ppu 16 64 256 1024 4096] [--replicates 1] [--steps 5]
                  [-o convergence.png]
      Runs CONFIG once deterministically and once stochastically for every particles_per_unit,
      compares the final steps, and plots the relative L2 error of the (ensemble mean) field
      against particles_per_unit x replicates on log-log axes with the fitted slope. Independent
      random walkers give a slope of -1/2.

The propagon program is ./build/propagon beside this script's folder, or --propagon PATH. Needs
Debian's python3-matplotlib and python3-numpy (run with /usr/bin/python3).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
except ImportError as e:  # pragma: no cover - depends on the machine
    sys.exit(f"compare_plot.py needs matplotlib and numpy ({e}); on Debian: apt-get install python3-matplotlib, "
             "and run it with /usr/bin/python3")

HERE = os.path.dirname(os.path.abspath(__file__))


def propagon_binary(path):
    exe = path or os.path.join(HERE, "..", "build", "propagon")
    if not os.path.exists(exe):
        sys.exit(f"compare_plot.py: no propagon program at {exe} (build it with scripts/build.sh, or pass --propagon)")
    return exe


def run(cmd):
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit(f"compare_plot.py: {' '.join(cmd)} failed ({done.returncode}):\n{done.stderr}{done.stdout}")
    return done.stdout


def compare_json(exe, a, b):
    return json.loads(run([exe, "compare", "--json", a, b]))


def plot_steps(args):
    exe = propagon_binary(args.propagon)
    report = compare_json(exe, args.a, args.b)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    twin = None
    for channel in sorted({r["channel"] for r in report["rows"]}):
        rows = [r for r in report["rows"] if r["channel"] == channel]
        steps = [r["step"] for r in rows]
        ax.plot(steps, [r["rel_l2"] if r["rel_l2"] is not None else np.nan for r in rows], "o-", label=f"{channel} rel. L2")
        if "max_abs_z" in rows[0]:
            twin = twin or ax.twinx()
            twin.plot(steps, [r["max_abs_z"] if r["max_abs_z"] is not None else np.nan for r in rows], "s--", alpha=0.6,
                      label=f"{channel} max |z|")
    ax.set_xlabel("step")
    ax.set_ylabel("relative L2 error  |A - B| / |B|")
    ax.set_title(f"A: {report['a_kind']}   vs   B: {report['b_kind']}", fontsize=9)
    ax.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    if twin:
        twin.set_ylabel("max |z|")
        h2, l2 = twin.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    ax.legend(handles, labels, fontsize=8)
    fig.tight_layout()
    fig.savefig(args.output, dpi=120)
    print(f"wrote {args.output}")


def plot_convergence(args):
    exe = propagon_binary(args.propagon)
    work = args.work or tempfile.mkdtemp(prefix="propagon_convergence_")
    common = ["--set", f"propagation.steps={args.steps}", "--set", f"output.every={args.steps}", "--set",
              "output.png=false", "--set", "propagation.precision=float64", "-q", "--no-progress"]
    det = os.path.join(work, "deterministic")
    run([exe, "run", args.config, "--output", det, "--set", "propagation.mode=deterministic"] + common)
    effort, error = [], []
    for ppu in args.ppu:
        out = os.path.join(work, f"stochastic_{ppu:g}")
        run([exe, "run", args.config, "--output", out, "--set", f"propagation.mode={args.mode}", "--set",
             f"propagation.particles_per_unit={ppu:g}", "--set", f"propagation.replicates={args.replicates}"] + common)
        report = compare_json(exe, out, det)
        final = [r for r in report["rows"] if r["step"] == args.steps]
        rel = float(np.sqrt(np.mean([r["rel_l2"] ** 2 for r in final])))
        effort.append(ppu * args.replicates)
        error.append(rel)
        print(f"particles_per_unit {ppu:g} x replicates {args.replicates}: relative L2 error {rel:.4e}")
    slope, intercept = np.polyfit(np.log10(effort), np.log10(error), 1)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.loglog(effort, error, "o", label="measured")
    xs = np.logspace(np.log10(min(effort)), np.log10(max(effort)), 50)
    ax.loglog(xs, 10 ** intercept * xs ** slope, "-", label=f"fit: slope {slope:.3f}")
    ax.loglog(xs, error[0] * (xs / effort[0]) ** -0.5, ":", color="gray", label="slope -1/2")
    ax.set_xlabel("particles per unit x replicates")
    ax.set_ylabel("relative L2 error vs deterministic")
    ax.set_title(f"{os.path.basename(args.config)}, {args.mode}, {args.steps} steps", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.output, dpi=120)
    with open(os.path.splitext(args.output)[0] + ".json", "w") as f:
        json.dump({"effort": effort, "rel_l2": error, "slope": slope}, f, indent=1)
    print(f"fitted slope {slope:.3f} (expected -0.5); wrote {args.output}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--propagon", help="path of the propagon program")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("steps", help="error against step for two runs")
    s.add_argument("a")
    s.add_argument("b")
    s.add_argument("-o", "--output", default="error_vs_step.png")
    s.set_defaults(func=plot_steps)
    c = sub.add_parser("convergence", help="error against particles x replicates, log-log, with the fitted slope")
    c.add_argument("config")
    c.add_argument("--ppu", type=float, nargs="+", default=[16, 64, 256, 1024, 4096])
    c.add_argument("--replicates", type=int, default=1)
    c.add_argument("--steps", type=int, default=5)
    c.add_argument("--mode", default="stochastic", choices=["stochastic", "collapse"])
    c.add_argument("--work", help="folder for the runs (default: a new temporary folder)")
    c.add_argument("-o", "--output", default="convergence.png")
    c.set_defaults(func=plot_convergence)
    args = p.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
