#include "propagon/compare.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>

#include "propagon/error.hpp"
#include "propagon/snapshot.hpp"
#include "propagon/version.hpp"
#include "propagon/xdmf.hpp"

namespace propagon {

namespace {
namespace fs = std::filesystem;
namespace L = snapshot_layout;

/// step -> file, for a snapshot file or a run folder.
std::map<std::int64_t, fs::path> snapshots_of(const fs::path& p) {
  std::error_code ec;
  std::map<std::int64_t, fs::path> out;
  if (fs::is_regular_file(p, ec)) {
    out[read_snapshot_header(p).step] = p;
    return out;
  }
  fs::path dir = p / L::snapshots_dir;
  if (!fs::is_directory(dir, ec)) dir = p;  // the snapshots folder itself
  if (!fs::is_directory(dir, ec)) throw InputError(fmt::format("{}: no such snapshot file or run folder", p.string()));
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (const auto step = L::step_of(e.path().filename().string())) out[*step] = e.path();
  if (out.empty()) throw InputError(fmt::format("{}: no snapshots (step_NNNNNN.h5) found", p.string()));
  return out;
}

std::string kind_of(const SnapshotData& s) {
  if (!s.header.stochastic) return s.header.mode;
  if (!s.ensemble_mean.empty()) return fmt::format("{}, ensemble mean of {}", s.header.mode, s.header.replicates);
  return fmt::format("{}, one realisation", s.header.mode);
}

// The values compared, and the variance of their noise (empty when deterministic).
struct Side {
  const std::vector<double>* values;
  std::vector<double> variance;
};

// A single collapse realisation has no closed-form variance (whole cells move): no z for it.
bool has_variance(const SnapshotData& s) { return s.header.stochastic && !(s.header.mode == "collapse" && s.ensemble_mean.empty()); }

Side side_of(const SnapshotData& s, std::size_t c, const std::vector<double>* expected) {
  Side side{s.ensemble_mean.empty() ? &s.values[c] : &s.ensemble_mean[c], {}};
  if (!has_variance(s)) return side;
  const std::size_t n = side.values->size();
  side.variance.resize(n);
  // Counts are whole numbers: a realisation's values are quantised to 1 / ppu, which alone (the
  // rounding of the initial field, say) is a variance of (1 / ppu)^2 / 12. It keeps z finite where
  // the sampling variance is 0.
  const double ppu = s.header.particles_per_unit, quantum = 1.0 / (12 * ppu * ppu);
  if (!s.ensemble_mean.empty()) {
    const double R = double(s.header.replicates);
    for (std::size_t i = 0; i < n; ++i) side.variance[i] = (s.ensemble_var[c][i] + quantum) / R;
  } else {
    // Poisson bound: variance of a count <= its mean; in concentration units mean / ppu.
    const std::vector<double>& mean = expected ? *expected : *side.values;
    for (std::size_t i = 0; i < n; ++i) side.variance[i] = std::max(mean[i], 0.0) / ppu + quantum;
  }
  return side;
}

Propagator propagator_of(const SnapshotData& s) {
  Propagator p;
  p.rank = static_cast<int>(s.propagator_shape.size());
  for (std::size_t i = 0; i < s.propagator_shape.size(); ++i) p.extent[3 - s.propagator_shape.size() + i] = int(s.propagator_shape[i]);
  p.weights = s.propagator;
  p.preset = s.preset;
  p.sigma = s.sigma;
  p.temperature = s.temperature;
  p.normalize = s.normalize == "sum" ? Normalization::sum : (s.normalize == "none" ? Normalization::none : Normalization::softmax);
  return p;
}
}  // namespace

CompareReport compare_runs(const fs::path& a, const fs::path& b, const std::optional<fs::path>& output_dir) {
  CompareReport report;
  report.a = a.string();
  report.b = b.string();
  const auto sa = snapshots_of(a), sb = snapshots_of(b);
  std::vector<std::int64_t> steps;
  const bool single_files = sa.size() == 1 && sb.size() == 1 && fs::is_regular_file(a) && fs::is_regular_file(b);
  if (single_files) steps.push_back(sa.begin()->first);  // two files: compared whatever their steps
  else
    for (const auto& [step, _] : sa)
      if (sb.count(step)) steps.push_back(step);
  if (steps.empty()) throw InputError(fmt::format("{} and {} have no step in common", a.string(), b.string()));
  if (single_files && sa.begin()->first != sb.begin()->first)
    report.notes.push_back(fmt::format("A is step {} and B is step {}: rows are labelled with A's step",
                                       sa.begin()->first, sb.begin()->first));
  if (!single_files && (steps.size() != sa.size() || steps.size() != sb.size()))
    report.notes.push_back(fmt::format("compared the {} step(s) both have; A has {} snapshots, B has {}", steps.size(),
                                       sa.size(), sb.size()));

  std::unique_ptr<XdmfIndex> xdmf;
  if (output_dir) {
    std::error_code ec;
    // Never write difference fields over a run's own snapshots.
    if (fs::is_directory(*output_dir / L::snapshots_dir, ec))
      for (const auto& e : fs::directory_iterator(*output_dir / L::snapshots_dir, ec))
        if (L::step_of(e.path().filename().string()) && read_snapshot_header(e.path()).mode != "compare")
          throw InputError(fmt::format("--output {} holds a run's snapshots; choose another folder for the differences",
                                       output_dir->string()));
    fs::create_directories(*output_dir / L::snapshots_dir, ec);
    if (ec) throw RunError(fmt::format("cannot create {}: {}", output_dir->string(), ec.message()));
  }
  for (const std::int64_t step : steps) {
    const SnapshotData da = read_snapshot(single_files ? sa.begin()->second : sa.at(step));
    const SnapshotData db = read_snapshot(single_files ? sb.begin()->second : sb.at(step));
    auto shape_text = [](const std::vector<std::int64_t>& s) {
      std::string t;
      for (auto n : s) t += (t.empty() ? "" : " x ") + std::to_string(n);
      return t;
    };
    if (da.shape != db.shape)
      throw InputError(fmt::format("step {}: the grids differ ({} in A, {} in B)", step, shape_text(da.shape), shape_text(db.shape)));
    if (da.spacing != db.spacing && report.notes.empty())
      report.notes.push_back("the two sides have different grid spacings; cells are compared index by index");
    // Different physics is allowed (that can be the point of a comparison), but said.
    if (step == steps.front()) {
      if (da.header.boundary != db.header.boundary)
        report.notes.push_back(fmt::format("the boundaries differ (A {}, B {}): differences near the walls are physics, "
                                           "not noise", da.header.boundary, db.header.boundary));
      if (da.propagator != db.propagator)
        report.notes.push_back("the propagators differ: the two sides do not simulate the same process");
    }
    report.a_kind = kind_of(da);
    report.b_kind = kind_of(db);
    const bool random = has_variance(da) || has_variance(db);
    for (const SnapshotData* s : {&da, &db})
      if (s->header.stochastic && !has_variance(*s) && step == steps.front())
        report.notes.push_back("a single collapse realisation has no closed-form variance, so it gets no z-scores; "
                               "run replicates for an ensemble variance");
    if (random) {
      std::string how;
      for (const SnapshotData* s : {&da, &db})
        if (has_variance(*s))
          how += (how.empty() ? "" : " + ") +
                 (s->ensemble_mean.empty() ? std::string("Poisson bound (mean / particles_per_unit)")
                                           : fmt::format("ensemble variance / replicates{}",
                                                         s->header.replicates < 30
                                                             ? fmt::format(" (only {}: the variance estimate is itself "
                                                                           "noisy, expect more |z| > 3)",
                                                                           s->header.replicates)
                                                             : ""));
      report.z_variance = how;
    }
    std::vector<std::string> names;
    std::vector<std::vector<double>> diffs, zs;
    for (std::size_t ca = 0; ca < da.channels.size(); ++ca) {
      const auto it = std::find(db.channels.begin(), db.channels.end(), da.channels[ca]);
      if (it == db.channels.end()) continue;
      const std::size_t cb = static_cast<std::size_t>(it - db.channels.begin());
      // The deterministic side, if any, gives the expected value for a single realisation's bound.
      const std::vector<double>* expected_a = has_variance(db) ? nullptr : &db.values[cb];
      const std::vector<double>* expected_b = has_variance(da) ? nullptr : &da.values[ca];
      const Side A = side_of(da, ca, expected_a), B = side_of(db, cb, expected_b);
      CompareRow row;
      row.step = step;
      row.channel = da.channels[ca];
      const std::size_t n = A.values->size();
      row.cells = static_cast<std::int64_t>(n);
      row.has_z = random;
      double l2 = 0, norm_b = 0;
      std::int64_t above = 0;
      std::vector<double> diff(n), z(random ? n : 0);
      for (std::size_t i = 0; i < n; ++i) {
        const double x = (*A.values)[i], y = (*B.values)[i];
        if (!std::isfinite(x)) ++row.nonfinite_a;
        if (!std::isfinite(y)) ++row.nonfinite_b;
        const double d = x - y;
        diff[i] = d;
        row.l1 += std::abs(d);
        l2 += d * d;
        // NaN must not vanish in a max: it poisons linf as it poisons the sums.
        row.linf = (std::isnan(d) || std::isnan(row.linf)) ? std::numeric_limits<double>::quiet_NaN()
                                                           : std::max(row.linf, std::abs(d));
        norm_b += y * y;
        row.mass_a += x;
        row.mass_b += y;
        if (random) {
          const double v = (A.variance.empty() ? 0.0 : A.variance[i]) + (B.variance.empty() ? 0.0 : B.variance[i]);
          const double zi = v > 0 ? d / std::sqrt(v) : (d == 0 ? 0.0 : std::copysign(INFINITY, d));
          z[i] = zi;
          if (std::isnan(zi) || std::isnan(row.max_abs_z)) row.max_abs_z = std::numeric_limits<double>::quiet_NaN();
          else row.max_abs_z = std::max(row.max_abs_z, std::abs(zi));
          if (!(std::abs(zi) <= 3)) ++above;
        }
      }
      row.l2 = std::sqrt(l2);
      row.rel_l2 = norm_b > 0 ? row.l2 / std::sqrt(norm_b) : (row.l2 == 0 ? 0.0 : INFINITY);
      row.mass_diff = row.mass_a - row.mass_b;
      row.fraction_z_above_3 = random && n ? double(above) / double(n) : 0.0;
      report.rows.push_back(row);
      names.push_back(row.channel);
      diffs.push_back(std::move(diff));
      zs.push_back(std::move(z));
    }
    if (names.empty())
      throw InputError(fmt::format("step {}: the two sides have no channel in common (A: {}, B: {})", step,
                                   fmt::join(da.channels, ", "), fmt::join(db.channels, ", ")));

    if (output_dir) {
      Grid grid = Grid::from_shape(da.shape);
      for (int i = 0; i < grid.rank; ++i) {
        grid.spacing[3 - grid.rank + i] = da.spacing.at(static_cast<std::size_t>(i));
        grid.origin[3 - grid.rank + i] = da.origin.at(static_cast<std::size_t>(i));
      }
      std::vector<std::string> out_names;
      std::vector<SnapshotChannel> chans;
      for (std::size_t c = 0; c < names.size(); ++c) {
        out_names.push_back(names[c] + "_diff");
        SnapshotChannel ch;
        ch.name = out_names.back();
        ch.field = diffs[c].data();
        chans.push_back(ch);
        if (!zs[c].empty()) {
          out_names.push_back(names[c] + "_z");
          SnapshotChannel zc;
          zc.name = out_names.back();
          zc.field = zs[c].data();
          chans.push_back(zc);
        }
      }
      if (!xdmf)
        xdmf = std::make_unique<XdmfIndex>(*output_dir / "compare.xmf", grid,
                                           snapshot_attributes(out_names, Precision::float64, false, false));
      SnapshotHeader h;
      h.step = step;
      h.time = da.header.time;
      h.mode = "compare";
      h.boundary = da.header.boundary;
      h.precision = "float64";
      h.propagon_version = version_string;
      const std::string name = L::file_name(step);
      write_snapshot(*output_dir / L::snapshots_dir / name, h, grid, chans, propagator_of(da),
                     fmt::format("compare:\n  a: {}\n  b: {}\n", a.string(), b.string()));
      xdmf->add(step, h.time, std::string(L::snapshots_dir) + "/" + name);
    }
  }
  return report;
}

const std::vector<std::string>& metric_names() {
  static const std::vector<std::string> names = {"l1", "l2", "linf", "rel_l2", "mass_diff", "max_abs_z"};
  return names;
}

double metric_value(const CompareRow& r, const std::string& m) {
  if (m == "l1") return r.l1;
  if (m == "l2") return r.l2;
  if (m == "linf") return r.linf;
  if (m == "rel_l2") return r.rel_l2;
  if (m == "mass_diff") return std::abs(r.mass_diff);
  if (m == "max_abs_z") return r.has_z ? r.max_abs_z : 0.0;
  throw std::invalid_argument(fmt::format("unknown metric '{}' (choose l1, l2, linf, rel_l2, mass_diff or max_abs_z)", m));
}

std::string format_table(const CompareReport& r) {
  std::string s = fmt::format("A: {}  ({})\nB: {}  ({})\n", r.a, r.a_kind, r.b, r.b_kind);
  s += "norms of A - B over all cells: L1 = sum|d|, L2 = sqrt(sum d^2), Linf = max|d|, rel_L2 = L2 / L2(B)\n";
  if (!r.z_variance.empty()) s += fmt::format("z = (A - B) / sqrt(variance), variance from: {}\n", r.z_variance);
  s += fmt::format("\n{:>8} {:<8} {:>11} {:>11} {:>11} {:>11} {:>14} {:>14} {:>11}", "step", "channel", "L1", "L2", "Linf",
                   "rel_L2", "mass A", "mass B", "mass A-B");
  const bool z = !r.rows.empty() && r.rows[0].has_z;
  if (z) s += fmt::format(" {:>8} {:>8}", "max|z|", "|z|>3");
  s += "\n";
  bool nonfinite = false;
  for (const auto& row : r.rows) {
    s += fmt::format("{:>8} {:<8} {:>11.4e} {:>11.4e} {:>11.4e} {:>11.4e} {:>14.8g} {:>14.8g} {:>11.3e}", row.step,
                     row.channel, row.l1, row.l2, row.linf, row.rel_l2, row.mass_a, row.mass_b, row.mass_diff);
    if (z) s += fmt::format(" {:>8.3f} {:>7.3f}%", row.max_abs_z, 100 * row.fraction_z_above_3);
    s += "\n";
    if (row.nonfinite_a || row.nonfinite_b) {
      s += fmt::format("         ^ NaN or Inf: {} cells in A, {} cells in B\n", row.nonfinite_a, row.nonfinite_b);
      nonfinite = true;
    }
  }
  if (z)
    s += "\nIf the errors were normal, about 0.27% of cells would have |z| > 3. Expect somewhat fewer with the Poisson\n"
         "bound, more with few replicates (Student t) or very sparse fields (few particles per cell).\n";
  for (const auto& n : r.notes) s += fmt::format("note: {}\n", n);
  if (nonfinite) s += "\nwarning: NaN or Inf values present; the norms involving them are NaN or Inf.\n";
  return s;
}

namespace {
std::string json_number(double v) { return std::isfinite(v) ? fmt::format("{:.17g}", v) : "null"; }
std::string json_string(const std::string& v) {
  std::string o = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') o += '\\';
    if (c == '\n') {
      o += "\\n";
      continue;
    }
    o += c;
  }
  return o + "\"";
}
}  // namespace

std::string format_json(const CompareReport& r) {
  std::string s = "{\n";
  s += fmt::format("  \"a\": {}, \"a_kind\": {},\n  \"b\": {}, \"b_kind\": {},\n", json_string(r.a), json_string(r.a_kind),
                   json_string(r.b), json_string(r.b_kind));
  s += fmt::format("  \"z_variance\": {},\n", r.z_variance.empty() ? "null" : json_string(r.z_variance));
  s += "  \"notes\": [";
  for (std::size_t i = 0; i < r.notes.size(); ++i) s += (i ? ", " : "") + json_string(r.notes[i]);
  s += "],\n  \"rows\": [\n";
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    const auto& x = r.rows[i];
    s += fmt::format(
        "    {{\"step\": {}, \"channel\": {}, \"cells\": {}, \"l1\": {}, \"l2\": {}, \"linf\": {}, \"rel_l2\": {}, "
        "\"mass_a\": {}, \"mass_b\": {}, \"mass_diff\": {}, \"nonfinite_a\": {}, \"nonfinite_b\": {}",
        x.step, json_string(x.channel), x.cells, json_number(x.l1), json_number(x.l2), json_number(x.linf),
        json_number(x.rel_l2), json_number(x.mass_a), json_number(x.mass_b), json_number(x.mass_diff), x.nonfinite_a,
        x.nonfinite_b);
    if (x.has_z)
      s += fmt::format(", \"max_abs_z\": {}, \"fraction_z_above_3\": {}", json_number(x.max_abs_z),
                       json_number(x.fraction_z_above_3));
    s += i + 1 < r.rows.size() ? "},\n" : "}\n";
  }
  s += "  ]\n}\n";
  return s;
}

}  // namespace propagon
