// The command line as a user meets it: the main job end to end, exit codes, bad input.
#include <gtest/gtest.h>

#include "scratch.hpp"
#include <sys/wait.h>

#include <cstdio>
#include <fstream>

#include "propagon/snapshot.hpp"

using namespace propagon;

namespace {
struct Result {
  int code;
  std::string output;  // stdout and stderr together
};

Result run(const std::string& args) {
  const std::string cmd = std::string(PROPAGON_BINARY) + " " + args + " 2>&1";
  Result r{-1, {}};
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  for (std::size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) r.output.append(buf, n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::filesystem::path scratch(const std::string& name) {
  return propagon::testing::scratch_dir("cli_" + name);
}

std::filesystem::path write(const std::filesystem::path& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir / name) << text;
  return dir / name;
}

const std::string source = PROPAGON_SOURCE_DIR;
const std::string good_input = "input: {synthetic: {shape: [8, 8]}}\n";

// Bad input: exit 2, a message that names the problem, and no output folder.
void expect_refused(const std::string& config_text, const std::string& expected_message, const std::string& name) {
  const auto dir = scratch(name);
  const auto cfg = write(dir, "bad.yaml", config_text);
  const auto out = dir / "out";
  const Result r = run("run " + cfg.string() + " --output " + out.string());
  EXPECT_EQ(r.code, 2) << r.output;
  EXPECT_NE(r.output.find(expected_message), std::string::npos) << "expected '" << expected_message << "' in:\n" << r.output;
  EXPECT_FALSE(std::filesystem::exists(out)) << "output was written for bad input";
}
}  // namespace

TEST(Cli, MainJobOnTheBundledPhoto) {
  const auto out = scratch("main") / "run";
  const Result r = run("run " + source + "/configs/default.yaml --output " + out.string() + " --no-progress");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("Mpixel-steps/s"), std::string::npos);
  EXPECT_NE(r.output.find("paraview"), std::string::npos);
  int snapshots = 0;
  for (const auto& e : std::filesystem::directory_iterator(out / "snapshots")) snapshots += e.path().extension() == ".h5";
  EXPECT_EQ(snapshots, 11);  // steps 0, 10, ..., 100
  const SnapshotData first = read_snapshot(out / "snapshots" / "step_000000.h5");
  const SnapshotData last = read_snapshot(out / "snapshots" / "step_000100.h5");
  EXPECT_EQ(last.channels, (std::vector<std::string>{"r", "g", "b"}));
  EXPECT_EQ(last.shape, (std::vector<std::int64_t>{512, 512}));
  for (std::size_t c = 0; c < 3; ++c) {
    double m0 = 0, m1 = 0;
    for (double v : first.values[c]) m0 += v;
    for (double v : last.values[c]) m1 += v;
    EXPECT_GT(m0, 1000.0);
    EXPECT_LT(std::abs(m1 - m0) / m0, 1e-6) << "channel " << c;
  }
  EXPECT_TRUE(std::filesystem::exists(out / "astronaut-gaussian.xmf"));
  EXPECT_TRUE(std::filesystem::exists(out / "history.csv"));
  EXPECT_TRUE(std::filesystem::exists(out / "previews" / "step_000100.png"));
}

TEST(Cli, BadInputIsRefusedWithNothingWritten) {
  expect_refused("name: x\ninput: {synthetic: {shape: [8, 8]}\nkernel: [\n", "malformed YAML", "malformed");
  expect_refused(good_input + "propagation: {stpes: 3}\n", "did you mean 'steps'", "unknown_key");
  expect_refused("input: {image: missing.png}\n", "image file not found", "missing_image");
  expect_refused("input: {image: " + source + "/tests/data/truncated.jpg}\n", "truncated JPEG", "truncated_jpeg");
  expect_refused(good_input + "kernel: {preset: box, size: 4}\n", "kernel.size", "even_kernel");
  expect_refused(good_input + "kernel: {values: [[1, 1], [1, 1]]}\n", "odd", "even_values");
}

TEST(Cli, ErrorsNameTheFileAndLine) {
  const auto dir = scratch("line");
  const auto cfg = write(dir, "c.yaml", good_input + "propagation:\n  steps: 10\n  boundry: wrap\n");
  const Result r = run("validate " + cfg.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("c.yaml:4:3: propagation.boundry"), std::string::npos) << r.output;
}

TEST(Cli, ValidatePrintsTheEffectiveRun) {
  const Result r = run("validate " + source + "/configs/default.yaml --set propagation.steps=7 --set kernel.preset=box");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("512 x 512"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("7 steps"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("0.11111"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("r, g, b"), std::string::npos) << r.output;
}

TEST(Cli, KernelsListsAndShowsPresets) {
  const Result list = run("kernels");
  EXPECT_EQ(list.code, 0);
  for (const char* name : {"identity", "box", "gaussian", "sobel_x", "sobel_y", "laplacian", "sharpen", "edge"})
    EXPECT_NE(list.output.find(name), std::string::npos) << name;
  const Result g = run("kernels gaussian --size 3");
  EXPECT_EQ(g.code, 0);
  EXPECT_NE(g.output.find("0.20418"), std::string::npos) << g.output;
  EXPECT_NE(g.output.find("0.075114"), std::string::npos) << g.output;
  EXPECT_EQ(run("kernels nonesuch").code, 2);
  EXPECT_EQ(run("kernels box --size 4").code, 2);
}

TEST(Cli, VersionHelpAndUsageErrors) {
  const Result v = run("--version");
  EXPECT_EQ(v.code, 0);
  EXPECT_NE(v.output.find("propagon 0."), std::string::npos) << v.output;
  const Result h = run("--help");
  EXPECT_EQ(h.code, 0);
  EXPECT_NE(h.output.find("Exit codes"), std::string::npos);
  EXPECT_EQ(run("run --help").code, 0);
  EXPECT_EQ(run("").code, 2);
  EXPECT_EQ(run("frobnicate").code, 2);
  EXPECT_EQ(run("run /no/such/config.yaml").code, 2);
}

TEST(Cli, UnstableRawFilterFailsDuringTheRunWithExitOne) {
  const auto dir = scratch("unstable");
  const auto cfg = write(dir, "u.yaml", good_input + "kernel: {values: [[9, 9, 9], [9, 9, 9], [9, 9, 9]], normalize: none}\n"
                                                     "propagation: {steps: 100, boundary: periodic}\n");
  const Result r = run("run " + cfg.string() + " --output " + (dir / "out").string() + " --no-progress");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("NaN or infinite"), std::string::npos) << r.output;
}

TEST(Cli, RawFiltersAreDescribedHonestly) {
  // sharpen sums to 1 but has negative weights: mass is conserved while values stay finite.
  const Result r = run("validate " + source + "/configs/edge.yaml --set kernel.preset=sharpen");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("some negative"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("conserved only while values stay finite"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("1 step of dt"), std::string::npos) << r.output;
}

TEST(Cli, AFolderIsNotAConfig) {
  const Result r = run("validate " + source + "/configs");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("is a folder"), std::string::npos) << r.output;
}

TEST(Cli, CompareRefusesMeaninglessTolerances) {
  const auto dir = scratch("tolerance");
  const auto cfg = write(dir, "t.yaml", good_input + "propagation: {steps: 2}\n");
  ASSERT_EQ(run("run " + cfg.string() + " -q --no-progress -o " + (dir / "a").string()).code, 0);
  const std::string a = (dir / "a").string();
  EXPECT_EQ(run("compare " + a + " " + a + " --tolerance 0").code, 0);
  EXPECT_EQ(run("compare " + a + " " + a + " --tolerance -1").code, 2);
  EXPECT_EQ(run("compare " + a + " " + a + " --tolerance nan").code, 2);
  EXPECT_EQ(run("compare " + a + " " + a + " --metric linf").code, 2);
  EXPECT_EQ(run("compare " + a + " " + a + " --tolerance 1 --metric max_abs_z").code, 2);
  EXPECT_EQ(run("compare " + a + " " + a + " --tolerance 1 --metric nonesuch").code, 2);
}

TEST(Cli, OutputOptionOverridesTheConfig) {
  const auto dir = scratch("outopt");
  const auto cfg = write(dir, "o.yaml", "name: o\n" + good_input + "propagation: {steps: 2}\noutput: {dir: " + (dir / "fromconfig").string() + "}\n");
  EXPECT_EQ(run("run " + cfg.string() + " -q --no-progress --output " + (dir / "fromcli").string()).code, 0);
  EXPECT_TRUE(std::filesystem::exists(dir / "fromcli" / "o.xmf"));
  EXPECT_FALSE(std::filesystem::exists(dir / "fromconfig"));
  const SnapshotData s = read_snapshot(dir / "fromcli" / "snapshots" / "step_000002.h5");
  EXPECT_NE(s.config_yaml.find("fromcli"), std::string::npos);
}
