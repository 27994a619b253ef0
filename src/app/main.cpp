// The propagon command line: parses its own arguments first (Kokkos reacts to a bare --help),
// then starts Kokkos, then turns library exceptions into one clear message and an exit code.
#include <CLI/CLI.hpp>
#include <Kokkos_Core.hpp>
#include <fmt/format.h>

#include <csignal>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <limits>
#include <iostream>

#include "propagon/compare.hpp"
#include "propagon/compat.hpp"
#include "propagon/config.hpp"
#include "propagon/error.hpp"
#include "propagon/input.hpp"
#include "propagon/insitu.hpp"
#include "propagon/interrupt.hpp"
#include "propagon/kernel.hpp"
#include "propagon/run.hpp"
#include "propagon/version.hpp"

namespace {

using namespace propagon;

constexpr const char* exit_codes_text =
    "Exit codes:\n"
    "  0  success\n"
    "  1  failure during the run (I/O error, unstable raw filter); for compare: tolerance exceeded\n"
    "  2  bad configuration, command line or input data (nothing was written)\n"
    "  130, 143  stopped by SIGINT (Ctrl-C) or SIGTERM: the current step was finished and written as a\n"
    "     final snapshot; continue with --restart DIR/snapshots/step_NNNNNN.h5\n";

void print_issues(const ConfigError& e) {
  for (const auto& i : e.issues()) fmt::print(stderr, "error: {}\n", i.describe());
  fmt::print(stderr, "{} problem{} in the configuration; nothing was run or written.\n", e.issues().size(),
             e.issues().size() == 1 ? "" : "s");
}

int cmd_kernels(const std::string& name, int size, int dims, const std::string& normalize, double temperature,
                double sigma) {
  if (name.empty()) {
    fmt::print("Kernel presets (kernel.preset). A preset is a raw kernel; kernel.normalize turns it into\n"
               "the propagator (softmax by default). Show one with: propagon kernels NAME [--size N]\n\n");
    for (const auto& p : presets()) fmt::print("  {:<10} {}\n  {:<10} sizes: {}\n", p.name, p.summary, "", p.sizes);
    fmt::print("\nNote: softmax is not scale-invariant; K and K/16 give very different propagators.\n");
    return exit_code::success;
  }
  Normalization norm = Normalization::softmax;
  if (normalize == "sum") norm = Normalization::sum;
  else if (normalize == "none") norm = Normalization::none;
  else if (normalize != "softmax") throw InputError(fmt::format("--normalize: expected softmax, sum or none, got '{}'", normalize));
  const RawKernel raw = make_preset(name, dims, std::vector<int>(static_cast<std::size_t>(dims), size), sigma);
  const Propagator p = normalize_kernel(raw, norm, temperature);
  fmt::print("{} ({}D, size {}): raw kernel\n{}", name, dims, size, format_kernel_table(raw.values, raw.extent, raw.rank));
  fmt::print("\npropagator (normalize {}{}):\n{}", normalization_name(norm),
             norm == Normalization::softmax ? fmt::format(", temperature {}", temperature) : "",
             format_kernel_table(p.weights, p.extent, p.rank));
  fmt::print("\nsum of weights {:.6g}", p.total());
  if (p.is_probability()) {
    const auto v = p.displacement_variance();
    const auto m = p.mean_displacement();
    fmt::print("; per step: drift (z,y,x) = ({:+.4g}, {:+.4g}, {:+.4g}), variance = ({:.4g}, {:.4g}, {:.4g})", m[0],
               m[1], m[2], v[0], v[1], v[2]);
  }
  fmt::print("\nOrientation: push. Entry [a][b] is the {} content at (y, x) sends to (y+a-r, x+b-r);\n"
             "applying it is scipy.ndimage.convolve, not OpenCV filter2D (which correlates).\n",
             p.is_probability() ? "probability that" : "weight with which");
  return exit_code::success;
}

std::string shell_quote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%") == std::string::npos)
    return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

RunDescription load(const std::string& config, const std::vector<std::string>& sets, const std::string& output) {
  RunDescription d = load_run_description(config, sets);
  if (!output.empty()) {
    d.output_dir = output;
    d.effective_yaml = effective_yaml(d);
  }
  return d;
}

}  // namespace

int main(int argc, char** argv) {
  // Arguments for Kokkos (--kokkos-...) go to Kokkos; everything else is ours.
  std::vector<char*> ours{argv[0]}, kokkos_args{argv[0]};
  for (int i = 1; i < argc; ++i) (std::strncmp(argv[i], "--kokkos-", 9) == 0 ? kokkos_args : ours).push_back(argv[i]);

  CLI::App app{fmt::format(
      "propagon {}: diffuse images and arrays with softmax-normalised propagators.\n\n"
      "Treats pixel intensities (a photo, or a 1D/2D/3D array) as concentrations. Every step\n"
      "pushes the content of each cell to its neighbours with the probabilities of the\n"
      "propagator P (a kernel normalised by softmax); the expected field after one step is\n"
      "the convolution u' = P (*) u, as scipy.ndimage.convolve computes it.\n\n"
      "Start with:  propagon run configs/default.yaml\n",
      version_string)};
  app.footer(std::string("\n") + exit_codes_text +
             "\nKokkos options (--kokkos-...) are passed to Kokkos, e.g. " + compat::threads_flag() + "=2.\n"
             "Run 'propagon COMMAND --help' for the options of each command.");
  app.set_version_flag("--version", std::string("propagon ") + version_string + " (Kokkos " +
                                        std::to_string(KOKKOS_VERSION) + ", " +
                                        Kokkos::DefaultExecutionSpace::name() + "; Catalyst " +
                                        (catalyst_module_path().empty() ? "off" : "on") + ")");
  app.require_subcommand(1);

  std::string config, output, restart;
  std::vector<std::string> sets;
  bool quiet = false, no_progress = false;
  auto* run = app.add_subcommand("run", "Run a simulation from a YAML config and write its snapshots.");
  run->add_option("CONFIG", config, "YAML configuration file (see configs/ and the README)")->required();
  run->add_option("--output,-o", output, "Output folder (overrides output.dir; default output/<name>)");
  run->add_option("--set,-s", sets,
                  "Override a config key by dotted path, e.g. --set propagation.steps=10 --set kernel.preset=box")
      ->type_name("KEY=VALUE");
  run->add_option("--restart", restart,
                  "Continue a run from one of its snapshots (same bits as the uninterrupted run); snapshots "
                  "after it are replaced, history.csv and the .xmf continue")
      ->type_name("SNAPSHOT");
  run->add_flag("--quiet,-q", quiet, "No start-up and final summaries");
  run->add_flag("--no-progress", no_progress, "No progress lines on stderr");
  run->footer(std::string("\nWrites DIR/snapshots/step_NNNNNN.h5, DIR/<name>.xmf (open it in ParaView) and DIR/history.csv.\n") +
              exit_codes_text);

  std::string vconfig;
  std::vector<std::string> vsets;
  auto* validate = app.add_subcommand("validate", "Check a config and print the effective run without running it.");
  validate->add_option("CONFIG", vconfig, "YAML configuration file")->required();
  validate->add_option("--set,-s", vsets, "Override a config key by dotted path")->type_name("KEY=VALUE");
  validate->footer(std::string("\nPrints the grid, channels, propagator, steps and outputs and exits 0,\n"
                               "or prints every problem found and exits 2.\n"));

  std::string ca, cb, cout_dir, cmetric = "rel_l2";
  double ctol = std::numeric_limits<double>::quiet_NaN();
  bool cjson = false;
  auto* compare = app.add_subcommand("compare", "Compare two snapshots, or two runs step by step (e.g. stochastic vs deterministic).");
  compare->add_option("A", ca, "Snapshot file or run folder")->required();
  compare->add_option("B", cb, "Snapshot file or run folder (the reference for rel_L2)")->required();
  compare->add_flag("--json", cjson, "Print JSON instead of a table");
  compare->add_option("--output,-o", cout_dir, "Write the difference fields (and z maps) as HDF5 + compare.xmf here");
  compare->add_option("--tolerance", ctol, "Exit with 1 if the metric exceeds this on any step or channel");
  compare->add_option("--metric", cmetric, "Metric for --tolerance: l1, l2, linf, rel_l2, mass_diff, max_abs_z")
      ->capture_default_str();
  compare->footer(
      "\nFor each common step and channel: L1, L2, Linf and relative L2 of A - B, the mass of each side and\n"
      "their difference. When a side is stochastic (or an ensemble), also a z-score map from the\n"
      "multinomial (Poisson-bounded) or ensemble variance: max |z| and the fraction of cells with |z| > 3.\n"
      "An ensemble side is compared through its mean. NaN and Inf are counted and reported.\n"
      "Exit codes: 0 compared (within --tolerance), 1 tolerance exceeded or NaN, 2 bad input.\n");

  std::string kname, knorm = "softmax";
  int ksize = 3, kdims = 2;
  double ktemp = 1.0, ksigma = 1.0;
  auto* kernels = app.add_subcommand("kernels", "List the kernel presets, or show one and its propagator.");
  kernels->add_option("NAME", kname, "Preset to show (omit to list them all)");
  kernels->add_option("--size", ksize, "Size per axis (odd)")->capture_default_str();
  kernels->add_option("--dims", kdims, "Number of axes: 1, 2 or 3")->check(CLI::Range(1, 3))->capture_default_str();
  kernels->add_option("--normalize", knorm, "softmax, sum or none")->capture_default_str();
  kernels->add_option("--temperature", ktemp, "Softmax temperature (> 0)")->capture_default_str();
  kernels->add_option("--sigma", ksigma, "Width of the gaussian preset, in cells")->capture_default_str();

  try {
    app.parse(static_cast<int>(ours.size()), ours.data());
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? exit_code::success : exit_code::bad_input;
  }

  // Kokkos 4's OpenMP backend warns when OMP_PROC_BIND is unset. The OpenMP runtime read its
  // environment when it was loaded, so setting the variable now changes nothing but the warning:
  // "false" is exactly the unbound behaviour the runtime already has. A user's own setting wins.
  setenv("OMP_PROC_BIND", "false", 0);
  int kargc = static_cast<int>(kokkos_args.size());
  Kokkos::ScopeGuard kokkos(kargc, kokkos_args.data());
  try {
    if (*kernels) return cmd_kernels(kname, ksize, kdims, knorm, ktemp, ksigma);
    if (*compare) {
      const bool tolerance_given = compare->count("--tolerance") > 0;
      if (tolerance_given && !(ctol >= 0))
        throw InputError(fmt::format("--tolerance: expected a number >= 0, got {}", ctol));
      if (compare->count("--metric") > 0 && !tolerance_given)
        throw InputError("--metric chooses what --tolerance checks: give --tolerance too, e.g. --tolerance 1e-3 --metric rel_l2");
      if (std::find(metric_names().begin(), metric_names().end(), cmetric) == metric_names().end())
        throw InputError(fmt::format("--metric: unknown metric '{}' (choose l1, l2, linf, rel_l2, mass_diff or max_abs_z)", cmetric));
      const CompareReport report =
          compare_runs(ca, cb, cout_dir.empty() ? std::nullopt : std::optional<std::filesystem::path>(cout_dir));
      fmt::print("{}", cjson ? format_json(report) : format_table(report));
      if (!cout_dir.empty() && !cjson) fmt::print("difference fields in {}/compare.xmf\n", cout_dir);
      if (tolerance_given) {
        if (cmetric == "max_abs_z" && (report.rows.empty() || !report.rows[0].has_z))
          throw InputError("--metric max_abs_z needs a stochastic side: neither A nor B has z-scores");
        int failed = 0;
        for (const auto& row : report.rows) {
          const double v = metric_value(row, cmetric);
          if (!(v <= ctol)) {
            ++failed;
            fmt::print(stderr, "step {} channel {}: {} = {} exceeds the tolerance {}\n", row.step, row.channel, cmetric, v, ctol);
          }
        }
        if (failed) return exit_code::run_failure;
      }
      return exit_code::success;
    }
    if (*validate) {
      const RunDescription d = load(vconfig, vsets, "");
      const InitialState initial = load_initial_state(d);
      fmt::print("{}\nconfiguration is valid.\n", describe_run(d, initial));
      return exit_code::success;
    }
    // A restart continues the run the snapshot belongs to: its folder, unless --output says otherwise.
    std::string out_dir = output;
    if (!restart.empty() && out_dir.empty()) {
      const std::filesystem::path snap(restart);
      if (snap.parent_path().filename() == "snapshots") out_dir = snap.parent_path().parent_path().string();
    }
    const RunDescription d = load(config, sets, out_dir);
    InitialState initial = load_initial_state(d);  // every input problem surfaces before any file is written
    if (!quiet) fmt::print("propagon {}\n{}\n", version_string, describe_run(d, initial));
    std::fflush(stdout);  // before the progress lines on stderr
    RunOptions options;
    options.progress = !no_progress;
    options.quiet = quiet;
    options.restart = restart;
    if (!restart.empty() && !quiet) fmt::print("continuing from {}\n", restart);
    install_stop_handlers();
    const RunSummary s = run_simulation(d, std::move(initial), options);
    if (!quiet) {
      fmt::print("\n{}: {} step{} in {:.2f} s, {:.1f} Mpixel-steps/s, {} snapshot{}\n",
                 s.stopped_by_signal ? "stopped early" : "done", s.steps, s.steps == 1 ? "" : "s", s.seconds,
                 s.pixel_steps_per_second / 1e6, s.snapshots, s.snapshots == 1 ? "" : "s");
      for (const auto& c : s.channels) {
        const double rel = (c.mass_start != 0 ? (c.mass_end - c.mass_start) / c.mass_start : 0.0) + 0.0;
        fmt::print("  {:<6} mass {:.10g} -> {:.10g} (change {:+.3e} relative)", c.channel, c.mass_start, c.mass_end, rel);
        if (d.boundary == Boundary::absorb) fmt::print(", absorbed {:.10g}", c.absorbed);
        fmt::print("\n");
      }
      fmt::print("\nresults in {}\n  open in ParaView:  paraview {}   (choose the \"XDMF Reader\" if asked)\n",
                 s.output_dir.string(), std::filesystem::absolute(s.xdmf_file).lexically_normal().string());
    }
    if (s.stopped_by_signal) {
      // The same command line, with --restart pointing at the final snapshot.
      std::string again;
      for (std::size_t i = 0; i < ours.size(); ++i) {
        const std::string a = ours[i];
        if (a == "--restart") {
          ++i;
          continue;
        }
        if (a.rfind("--restart=", 0) == 0) continue;
        again += (again.empty() ? "" : " ") + shell_quote(a);
      }
      for (std::size_t i = 1; i < kokkos_args.size(); ++i) again += " " + shell_quote(kokkos_args[i]);
      again += " --restart " + shell_quote(s.last_snapshot.string());
      fmt::print(stderr, "stopped by {} after step {}; the state is in {}\ncontinue with: {}\n",
                 s.stopped_by_signal == SIGINT ? "SIGINT" : "SIGTERM", s.last_step, s.last_snapshot.string(), again);
      return 128 + s.stopped_by_signal;
    }
    return exit_code::success;
  } catch (const ConfigError& e) {
    print_issues(e);
    return exit_code::bad_input;
  } catch (const StartError& e) {
    fmt::print(stderr, "error: {}\nthe run stopped before its first step (its step 0 outputs may exist).\n", e.what());
    return exit_code::bad_input;
  } catch (const InputError& e) {
    fmt::print(stderr, "error: {}\nnothing was run or written.\n", e.what());
    return exit_code::bad_input;
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return exit_code::bad_input;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error during the run: {}\n", e.what());
    return exit_code::run_failure;
  }
}
