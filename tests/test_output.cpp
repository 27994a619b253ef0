// The file-format contract: snapshots read back item by item, the XDMF index, history.csv.
#include <gtest/gtest.h>

#include "scratch.hpp"

#include <cmath>
#include <fstream>
#include <regex>
#include <sstream>

#include "propagon/background.hpp"
#include "propagon/config.hpp"
#include "propagon/error.hpp"
#include "propagon/input.hpp"
#include "propagon/run.hpp"
#include "propagon/snapshot.hpp"
#include "propagon/version.hpp"

using namespace propagon;

namespace {
std::filesystem::path fresh_dir(const std::string& name) {
  const auto dir = propagon::testing::scratch_dir(name);
  std::filesystem::remove_all(dir);  // the run creates it
  return dir;
}

RunSummary run_yaml(const std::string& yaml, const std::filesystem::path& out) {
  RunDescription d = parse_run_description(yaml, std::filesystem::path(PROPAGON_SOURCE_DIR) / "tests" / "t.yaml");
  d.output_dir = out;
  d.effective_yaml = effective_yaml(d);
  RunOptions o;
  o.progress = false;
  o.quiet = true;
  return run_simulation(d, load_initial_state(d), o);
}

std::vector<std::vector<std::string>> read_csv(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string c; std::getline(ss, c, ',');) cells.push_back(c);
    rows.push_back(cells);
  }
  return rows;
}
}  // namespace

TEST(Output, SnapshotHasEveryItemOfTheFormat) {
  const auto out = fresh_dir("format");
  const RunSummary s = run_yaml(R"(name: fmt
input:
  synthetic: {shape: [6, 10], pattern: point, at: [2, 3], value: 2.5}
  spacing: [0.5, 0.25]
  origin: [1.0, -2.0]
kernel: {preset: box, size: 3}
propagation: {steps: 7, dt: 0.5, boundary: periodic, precision: float64}
output: {every: 3}
)",
                                out);
  EXPECT_EQ(s.snapshots, 4);  // steps 0, 3, 6 and the last, 7
  for (int step : {0, 3, 6, 7}) EXPECT_TRUE(std::filesystem::exists(out / "snapshots" / snapshot_layout::file_name(step)));
  EXPECT_EQ(snapshot_layout::file_name(7), "step_000007.h5");
  EXPECT_EQ(snapshot_layout::file_name(1234567), "step_1234567.h5");
  for (const auto& e : std::filesystem::directory_iterator(out / "snapshots"))
    EXPECT_EQ(e.path().extension(), ".h5") << "left behind: " << e.path();

  const SnapshotData d = read_snapshot(out / "snapshots" / "step_000003.h5");
  EXPECT_EQ(d.format, "propagon-snapshot");
  EXPECT_EQ(d.format_version, 1);
  EXPECT_EQ(d.header.step, 3);
  EXPECT_DOUBLE_EQ(d.header.time, 1.5);
  EXPECT_EQ(d.header.mode, "deterministic");
  EXPECT_EQ(d.header.propagon_version, version_string);
  EXPECT_EQ(d.header.boundary, "periodic");
  EXPECT_EQ(d.shape, (std::vector<std::int64_t>{6, 10}));
  EXPECT_EQ(d.spacing, (std::vector<double>{0.5, 0.25}));
  EXPECT_EQ(d.origin, (std::vector<double>{1.0, -2.0}));
  ASSERT_EQ(d.channels, std::vector<std::string>{"c"});
  EXPECT_EQ(d.field_types[0], "float64");
  double mass = 0;
  for (double v : d.values[0]) mass += v;
  EXPECT_NEAR(mass, 2.5, 1e-13);
  EXPECT_EQ(d.propagator_shape, (std::vector<std::int64_t>{3, 3}));
  for (double w : d.propagator) EXPECT_NEAR(w, 1.0 / 9, 1e-16);
  EXPECT_EQ(d.preset, "box");
  EXPECT_EQ(d.normalize, "softmax");
  EXPECT_DOUBLE_EQ(d.temperature, 1.0);
  // The stored config is the effective one and parses back to the same run.
  const RunDescription again = parse_run_description(d.config_yaml, "stored.yaml");
  EXPECT_EQ(again.steps, 7);
  EXPECT_EQ(again.boundary, Boundary::periodic);
  // Step 0 is the initial field, exactly.
  const SnapshotData first = read_snapshot(out / "snapshots" / "step_000000.h5");
  EXPECT_EQ(first.values[0][2 * 10 + 3], 2.5);
}

TEST(Output, Float32RunsStoreFloat32Fields) {
  const auto out = fresh_dir("f32");
  run_yaml("input: {synthetic: {shape: [5], pattern: uniform}}\npropagation: {steps: 1}\n", out);
  const SnapshotData d = read_snapshot(out / "snapshots" / "step_000001.h5");
  EXPECT_EQ(d.field_types[0], "float32");
  EXPECT_EQ(d.shape, std::vector<std::int64_t>{5});
}

TEST(Output, XdmfIndexIsValidXmlAndRefersOnlyToExistingFiles) {
  const auto out = fresh_dir("xdmf");
  run_yaml("name: idx\ninput: {synthetic: {shape: [4, 5, 6], pattern: gaussian, sigma: 1}}\npropagation: {steps: 4}\noutput: {every: 2}\n", out);
  const auto xmf = out / "idx.xmf";
  ASSERT_TRUE(std::filesystem::exists(xmf));
  // Well-formedness by a real XML parser (Python's, always present where the tests run).
  const std::string cmd = "/usr/bin/python3 -c \"import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])\" " + xmf.string();
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream in(xmf);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  const std::regex ref(R"(>([^<>:]+\.h5):(/fields/[a-z]+)<)");
  int refs = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), ref); it != std::sregex_iterator(); ++it) {
    ++refs;
    EXPECT_TRUE(std::filesystem::exists(out / (*it)[1].str())) << (*it)[1].str();
  }
  EXPECT_EQ(refs, 3);  // steps 0, 2, 4, one channel
  EXPECT_NE(text.find("Dimensions=\"4 5 6\""), std::string::npos);
  EXPECT_NE(text.find("CollectionType=\"Temporal\""), std::string::npos);
  EXPECT_NE(text.find("<Time Value=\"4\"/>"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(out / "idx.xmf.tmp"));
  // A volume is not flipped (that would mirror it); a picture is (row 0 on top in ParaView).
  EXPECT_NE(text.find(">1 1 1</DataItem>"), std::string::npos) << text.substr(0, 800);
  const auto pic = fresh_dir("xdmf2d");
  run_yaml("name: pic\ninput: {synthetic: {shape: [4, 5]}, spacing: [2, 3], origin: [10, 20]}\npropagation: {steps: 0}\n", pic);
  std::ifstream in2(pic / "pic.xmf");
  const std::string t2((std::istreambuf_iterator<char>(in2)), {});
  EXPECT_NE(t2.find(">0 16 20</DataItem>"), std::string::npos) << t2;  // origin y + (ny - 1) dy
  EXPECT_NE(t2.find(">1 -2 3</DataItem>"), std::string::npos) << t2;
}

TEST(Output, HistoryHasOneRowPerStepAndChannel) {
  const auto out = fresh_dir("history");
  const RunSummary s = run_yaml(R"(input: {synthetic: {shape: [41, 41], pattern: point}}
kernel: {preset: box}
propagation: {steps: 5, boundary: absorb}
)",
                                out);
  const auto rows = read_csv(out / "history.csv");
  ASSERT_EQ(rows.size(), 7u);
  EXPECT_EQ(rows[0].size(), 13u);
  EXPECT_EQ(rows[0][0], "step");
  EXPECT_EQ(rows[0][12], "absorbed");
  for (int step = 0; step <= 5; ++step) {
    const auto& r = rows[static_cast<std::size_t>(step + 1)];
    EXPECT_EQ(std::stoi(r[0]), step);
    EXPECT_EQ(r[2], "c");
    EXPECT_NEAR(std::stod(r[3]), 1.0, 1e-6);          // far from the walls: nothing absorbed yet
    EXPECT_NEAR(std::stod(r[6]), 20.0, 1e-6);         // mean_x (a float32 run)
    EXPECT_NEAR(std::stod(r[9]), step * 2.0 / 3, 1e-5);  // var_x
    EXPECT_NEAR(std::stod(r[10]), step * 2.0 / 3, 1e-5);  // var_y
    EXPECT_EQ(std::stod(r[11]), 0.0);                  // var_z of a 2D grid
  }
  EXPECT_NEAR(s.channels[0].mass_end, 1.0, 1e-6);
}

TEST(Output, PreviewsAreWrittenWhenAsked) {
  const auto out = fresh_dir("png");
  run_yaml("input: {synthetic: {shape: [8, 12], pattern: checkerboard, period: 2}}\npropagation: {steps: 2}\noutput: {png: true, every: 1}\n", out);
  for (int step : {0, 1, 2}) EXPECT_TRUE(std::filesystem::exists(out / "previews" / ("step_00000" + std::to_string(step) + ".png")));
}

TEST(Output, ARerunUnderAnotherNameLeavesNoStaleIndex) {
  const auto out = fresh_dir("rename");
  run_yaml("name: first\ninput: {synthetic: {shape: [5, 5]}}\npropagation: {steps: 2}\n", out);
  run_yaml("name: second\ninput: {synthetic: {shape: [5, 5]}}\npropagation: {steps: 2}\n", out);
  EXPECT_FALSE(std::filesystem::exists(out / "first.xmf"));
  EXPECT_TRUE(std::filesystem::exists(out / "second.xmf"));
}

TEST(Output, ARerunReplacesTheEarlierRun) {
  const auto out = fresh_dir("rerun");
  run_yaml("name: a\ninput: {synthetic: {shape: [5, 5]}}\npropagation: {steps: 20}\noutput: {every: 1}\n", out);
  run_yaml("name: a\ninput: {synthetic: {shape: [5, 5]}}\npropagation: {steps: 2}\noutput: {every: 1}\n", out);
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(out / "snapshots")) n += e.is_regular_file();
  EXPECT_EQ(n, 3);
}

#include "../src/hdf5.hpp"

TEST(Output, Hdf5InputGivesOneChannelPerDataset) {
  const auto dir = fresh_dir("h5in");
  std::filesystem::create_directories(dir);
  {
    h5::Handle f = h5::create_file(dir / "in.h5");
    h5::Handle g = h5::create_group(f, "/data");
    std::vector<double> u(3 * 4, 0.0), v(3 * 4, 2.0);
    u[5] = 12.0;
    h5::write_dataset(g, "u", u.data(), {3, 4});
    h5::write_dataset(g, "v", v.data(), {3, 4});
  }
  const std::string yaml = "name: h\ninput:\n  hdf5: {file: " + (dir / "in.h5").string() +
                           ", datasets: [/data/u, /data/v]}\n  scale: 0.5\nkernel: {preset: box}\n"
                           "propagation: {steps: 1, boundary: periodic, precision: float64}\n";
  run_yaml(yaml, dir / "out");
  const SnapshotData s = read_snapshot(dir / "out" / "snapshots" / "step_000001.h5");
  ASSERT_EQ(s.channels, (std::vector<std::string>{"u", "v"}));
  EXPECT_EQ(s.shape, (std::vector<std::int64_t>{3, 4}));
  for (double x : s.values[1]) EXPECT_NEAR(x, 1.0, 1e-15);  // uniform 2 x scale 0.5 stays uniform
  double mass = 0;
  for (double x : s.values[0]) mass += x;
  EXPECT_NEAR(mass, 6.0, 1e-14);
  EXPECT_NEAR(s.values[0][5], 6.0 / 9, 1e-15);
  // Missing datasets, and groups named as datasets, are configuration errors.
  EXPECT_THROW(parse_run_description("input: {hdf5: {file: " + (dir / "in.h5").string() + ", dataset: /nope}}\n", "x.yaml"),
               ConfigError);
  try {
    parse_run_description("input: {hdf5: {file: " + (dir / "in.h5").string() + ", dataset: /data}}\n", "x.yaml");
    FAIL() << "a group was accepted as a dataset";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("is a group"), std::string::npos) << e.what();
  }
}

TEST(Output, SpectralRunsVisitOnlyTheStepsTheyWrite) {
  const auto out = fresh_dir("spectral");
  const RunSummary s = run_yaml("name: s\ninput: {synthetic: {shape: [16, 16], pattern: point}}\nkernel: {preset: box}\n"
                                "propagation: {mode: spectral, steps: 1000, boundary: periodic, precision: float64}\n"
                                "output: {every: 400}\n",
                                out);
  EXPECT_EQ(s.snapshots, 4);  // 0, 400, 800, 1000
  const auto rows = read_csv(out / "history.csv");
  ASSERT_EQ(rows.size(), 5u);  // header + the four snapshot steps
  EXPECT_EQ(rows[4][0], "1000");
  const SnapshotData d = read_snapshot(out / "snapshots" / "step_001000.h5");
  for (double v : d.values[0]) EXPECT_NEAR(v, 1.0 / 256, 1e-12);  // fully mixed on the torus
}

TEST(BackgroundWorker, RunsJobsInOrderAndSurfacesTheirErrors) {
  std::vector<int> done;
  {
    BackgroundWorker w;
    for (int i = 0; i < 5; ++i) w.submit([&done, i] { done.push_back(i); });
    w.wait();
    EXPECT_EQ(done, (std::vector<int>{0, 1, 2, 3, 4}));
    w.submit([] { throw RunError("disk full"); });
    EXPECT_THROW(w.wait(), RunError);
    EXPECT_NO_THROW(w.wait());  // reported once
    w.submit([] { throw RunError("again"); });
    EXPECT_THROW(w.submit([&done] { done.push_back(9); }), RunError);  // the next submit reports it
    w.submit([&done] { done.push_back(7); });
  }  // the destructor finishes the pending job before joining
  EXPECT_EQ(done.back(), 7);
}
