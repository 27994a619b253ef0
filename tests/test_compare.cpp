// propagon compare: known inputs give known numbers; NaN surfaces; z-scores for random sides.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "propagon/compare.hpp"
#include "propagon/error.hpp"
#include "propagon/snapshot.hpp"
#include "propagon/version.hpp"
#include "scratch.hpp"

using namespace propagon;

namespace {
std::filesystem::path write_fields(const std::filesystem::path& path, std::int64_t step, const std::vector<double>& values,
                                   bool stochastic = false, double ppu = 100, const char* boundary = "periodic",
                                   const char* preset = "box") {
  Grid g = Grid::from_shape({2, 2});
  SnapshotHeader h;
  h.step = step;
  h.time = double(step);
  h.precision = "float64";
  h.propagon_version = version_string;
  h.stochastic = stochastic;
  h.mode = stochastic ? "stochastic" : "deterministic";
  h.particles_per_unit = ppu;
  h.boundary = boundary;
  std::vector<std::uint64_t> counts;
  for (double v : values) counts.push_back(static_cast<std::uint64_t>(std::llround(std::max(0.0, v) * ppu)));
  SnapshotChannel c;
  c.name = "c";
  c.field = values.data();
  if (stochastic) {
    c.counts = counts.data();
    c.absorbed_particles = {0};
  }
  const Propagator p = normalize_kernel(make_preset(preset, 2, {3, 3}, 1.0), Normalization::softmax);
  std::filesystem::create_directories(path.parent_path());
  write_snapshot(path, h, g, {c}, p, "name: test\n");
  return path;
}
}  // namespace

TEST(Compare, KnownInputsGiveKnownNumbers) {
  const auto dir = propagon::testing::scratch_dir("compare_known");
  const auto a = write_fields(dir / "a.h5", 3, {1, 2, 3, 4});
  const auto b = write_fields(dir / "b.h5", 3, {1, 1, 1, 1});
  const CompareReport r = compare_runs(a, b);
  ASSERT_EQ(r.rows.size(), 1u);
  const CompareRow& x = r.rows[0];
  EXPECT_EQ(x.step, 3);
  EXPECT_DOUBLE_EQ(x.l1, 6.0);
  EXPECT_DOUBLE_EQ(x.l2, std::sqrt(14.0));
  EXPECT_DOUBLE_EQ(x.linf, 3.0);
  EXPECT_DOUBLE_EQ(x.rel_l2, std::sqrt(14.0) / 2.0);
  EXPECT_DOUBLE_EQ(x.mass_a, 10.0);
  EXPECT_DOUBLE_EQ(x.mass_b, 4.0);
  EXPECT_DOUBLE_EQ(x.mass_diff, 6.0);
  EXPECT_FALSE(x.has_z);
  EXPECT_DOUBLE_EQ(metric_value(x, "rel_l2"), std::sqrt(14.0) / 2.0);
  EXPECT_THROW(metric_value(x, "nonesuch"), std::invalid_argument);
  const std::string json = format_json(r);
  EXPECT_NE(json.find("\"l1\": 6,"), std::string::npos) << json;
}

TEST(Compare, NanSurfaces) {
  const auto dir = propagon::testing::scratch_dir("compare_nan");
  const auto a = write_fields(dir / "a.h5", 0, {1, NAN, 3, INFINITY});
  const auto b = write_fields(dir / "b.h5", 0, {1, 1, 1, 1});
  const CompareReport r = compare_runs(a, b);
  EXPECT_EQ(r.rows[0].nonfinite_a, 2);
  EXPECT_EQ(r.rows[0].nonfinite_b, 0);
  EXPECT_TRUE(std::isnan(r.rows[0].l2));
  EXPECT_TRUE(std::isnan(r.rows[0].linf));
  EXPECT_FALSE(metric_value(r.rows[0], "linf") <= 1e9);  // a tolerance check fails on NaN
  EXPECT_NE(format_table(r).find("NaN or Inf: 2 cells in A"), std::string::npos) << format_table(r);
  EXPECT_NE(format_json(r).find("\"l2\": null"), std::string::npos);
}

TEST(Compare, ZScoresOfARealisationUseThePoissonBound) {
  const auto dir = propagon::testing::scratch_dir("compare_z");
  // Expected 1.0 (100 particles): a realisation of 1.2 is 20 particles above, sigma sqrt(100) = 10 -> z ~ 2.
  const auto a = write_fields(dir / "a.h5", 1, {1.2, 1.0, 0.7, 1.0}, true, 100);
  const auto b = write_fields(dir / "b.h5", 1, {1.0, 1.0, 1.0, 1.0});
  const CompareReport r = compare_runs(a, b);
  ASSERT_TRUE(r.rows[0].has_z);
  const double quantum = 1.0 / (12 * 100.0 * 100.0);
  EXPECT_NEAR(r.rows[0].max_abs_z, 0.3 / std::sqrt(0.01 + quantum), 1e-9);
  EXPECT_DOUBLE_EQ(r.rows[0].fraction_z_above_3, 0.0);
  EXPECT_NE(r.z_variance.find("Poisson"), std::string::npos);
}

TEST(Compare, RunFoldersAreMatchedByStep) {
  const auto dir = propagon::testing::scratch_dir("compare_runs");
  for (int step : {0, 5, 10}) write_fields(dir / "a" / "snapshots" / snapshot_layout::file_name(step), step, {1, 2, 3, double(step)});
  for (int step : {0, 10, 20}) write_fields(dir / "b" / "snapshots" / snapshot_layout::file_name(step), step, {1, 2, 3, 0});
  const CompareReport r = compare_runs(dir / "a", dir / "b", dir / "diff");
  ASSERT_EQ(r.rows.size(), 2u);
  EXPECT_EQ(r.rows[0].step, 0);
  EXPECT_EQ(r.rows[1].step, 10);
  EXPECT_DOUBLE_EQ(r.rows[1].linf, 10.0);
  // The difference fields are snapshots themselves, indexed for ParaView.
  const SnapshotData d = read_snapshot(dir / "diff" / "snapshots" / "step_000010.h5");
  EXPECT_EQ(d.channels, std::vector<std::string>{"c_diff"});
  EXPECT_EQ(d.values[0], (std::vector<double>{0, 0, 0, 10}));
  EXPECT_TRUE(std::filesystem::exists(dir / "diff" / "compare.xmf"));
  EXPECT_THROW(compare_runs(dir / "a", dir / "nowhere"), InputError);
}

TEST(Compare, NeverWritesOverARunAndExplainsMismatches) {
  const auto dir = propagon::testing::scratch_dir("compare_guard");
  write_fields(dir / "a" / "snapshots" / "step_000000.h5", 0, {1, 2, 3, 4});
  write_fields(dir / "b" / "snapshots" / "step_000000.h5", 0, {1, 1, 1, 1});
  write_fields(dir / "b" / "snapshots" / "step_000005.h5", 5, {1, 1, 1, 1});
  try {
    compare_runs(dir / "a", dir / "b", dir / "b");
    FAIL() << "difference fields were written over run B";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("holds a run's snapshots"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_snapshot(dir / "b" / "snapshots" / "step_000000.h5").channels, std::vector<std::string>{"c"});
  const CompareReport r = compare_runs(dir / "a", dir / "b");
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_NE(r.notes[0].find("A has 1 snapshots, B has 2"), std::string::npos) << r.notes[0];
  const CompareReport files = compare_runs(dir / "a" / "snapshots" / "step_000000.h5", dir / "b" / "snapshots" / "step_000005.h5");
  ASSERT_FALSE(files.notes.empty());
  EXPECT_NE(files.notes[0].find("A is step 0 and B is step 5"), std::string::npos) << files.notes[0];
}

TEST(Compare, ACollapseRealisationGetsNoPoissonZ) {
  const auto dir = propagon::testing::scratch_dir("compare_collapse");
  auto a = write_fields(dir / "a.h5", 1, {2, 0, 0, 2}, true, 100);
  // Turn it into a collapse snapshot: same layout, another mode attribute.
  {
    const SnapshotData s = read_snapshot(a);
    (void)s;
  }
  Grid g = Grid::from_shape({2, 2});
  SnapshotHeader h;
  h.step = 1;
  h.time = 1;
  h.precision = "float64";
  h.mode = "collapse";
  h.boundary = "periodic";
  h.stochastic = true;
  h.particles_per_unit = 100;
  const std::vector<double> v{2, 0, 0, 2};
  const std::vector<std::uint64_t> counts{200, 0, 0, 200};
  SnapshotChannel c;
  c.name = "c";
  c.field = v.data();
  c.counts = counts.data();
  c.absorbed_particles = {0};
  write_snapshot(a, h, g, {c}, normalize_kernel(make_preset("box", 2, {3, 3}, 0), Normalization::softmax), "");
  const auto b = write_fields(dir / "b.h5", 1, {1, 1, 1, 1});
  const CompareReport r = compare_runs(a, b);
  EXPECT_FALSE(r.rows[0].has_z);
  ASSERT_FALSE(r.notes.empty());
  EXPECT_NE(r.notes[0].find("collapse"), std::string::npos);
}

TEST(Compare, GridMismatchNamesTheShapes) {
  const auto dir = propagon::testing::scratch_dir("compare_shapes");
  const auto a = write_fields(dir / "a.h5", 0, {1, 2, 3, 4});
  Grid g = Grid::from_shape({4});
  SnapshotHeader h;
  h.precision = "float64";
  const std::vector<double> v{1, 2, 3, 4};
  SnapshotChannel c;
  c.name = "c";
  c.field = v.data();
  write_snapshot(dir / "b.h5", h, g, {c}, normalize_kernel(make_preset("box", 1, {3}, 0), Normalization::softmax), "");
  try {
    compare_runs(a, dir / "b.h5");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("2 x 2 in A, 4 in B"), std::string::npos) << e.what();
  }
}

TEST(Compare, DifferentBoundariesOrPropagatorsAreNoted) {
  const auto dir = propagon::testing::scratch_dir("compare_physics");
  write_fields(dir / "a" / "snapshots" / "step_000000.h5", 0, {1, 2, 3, 4}, false, 100, "reflect", "gaussian");
  write_fields(dir / "b" / "snapshots" / "step_000000.h5", 0, {1, 2, 3, 4});
  const CompareReport r = compare_runs(dir / "a", dir / "b");
  ASSERT_EQ(r.notes.size(), 2u);
  EXPECT_NE(r.notes[0].find("boundaries differ (A reflect, B periodic)"), std::string::npos) << r.notes[0];
  EXPECT_NE(r.notes[1].find("propagators differ"), std::string::npos) << r.notes[1];
  write_fields(dir / "c" / "snapshots" / "step_000000.h5", 0, {4, 3, 2, 1});
  EXPECT_TRUE(compare_runs(dir / "c", dir / "b").notes.empty());  // same physics: nothing to say
}
