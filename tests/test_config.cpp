// Configuration parsing: defaults, overrides, and errors that name file:line:column and the key.
#include <gtest/gtest.h>

#include <fstream>

#include "propagon/config.hpp"
#include "propagon/error.hpp"

using namespace propagon;

namespace {
const std::filesystem::path here = std::filesystem::path(PROPAGON_SOURCE_DIR) / "tests" / "config.yaml";

const char* minimal = R"(name: t
input:
  synthetic: {shape: [8, 9], pattern: point, at: [4, 4]}
)";

std::vector<ConfigIssue> issues_of(const std::string& yaml, const std::vector<std::string>& sets = {}) {
  try {
    parse_run_description(yaml, here, sets);
  } catch (const ConfigError& e) {
    return e.issues();
  }
  return {};
}

bool mentions(const std::vector<ConfigIssue>& issues, const std::string& key, const std::string& text) {
  for (const auto& i : issues)
    if (i.where.key == key && i.describe().find(text) != std::string::npos) return true;
  return false;
}
}  // namespace

TEST(Config, DefaultsAreFilledIn) {
  const RunDescription d = parse_run_description(minimal, here);
  EXPECT_EQ(d.name, "t");
  EXPECT_EQ(d.mode, Mode::deterministic);
  EXPECT_EQ(d.steps, 100);
  EXPECT_EQ(d.boundary, Boundary::reflect);
  EXPECT_EQ(d.precision, Precision::float32);
  EXPECT_EQ(d.output_dir, std::filesystem::path("output/t"));
  EXPECT_EQ(d.output_every, 10);
  EXPECT_EQ(d.propagator.preset, "gaussian");
  EXPECT_EQ(d.propagator.extent, (std::array<int, 3>{1, 3, 3}));
  EXPECT_NEAR(d.propagator.at(0, 1, 1), 0.20418, 5e-6);
  EXPECT_EQ(d.input.spacing, (std::vector<double>{1.0, 1.0}));
  // The effective YAML round-trips to the same run.
  const RunDescription again = parse_run_description(d.effective_yaml, here);
  EXPECT_EQ(again.effective_yaml, d.effective_yaml);
}

TEST(Config, OverridesByDottedPath) {
  const RunDescription d = parse_run_description(
      minimal, here, {"propagation.steps=10", "kernel.preset=box", "propagation.boundary=wrap", "kernel.temperature=1e-3"});
  EXPECT_EQ(d.steps, 10);
  EXPECT_EQ(d.propagator.preset, "box");
  EXPECT_EQ(d.boundary, Boundary::periodic);
  EXPECT_DOUBLE_EQ(d.propagator.temperature, 1e-3);
  EXPECT_NE(d.effective_yaml.find("steps: 10"), std::string::npos);
  const auto bad = issues_of(minimal, {"propagation.stepz=10"});
  ASSERT_FALSE(bad.empty());
  EXPECT_TRUE(bad[0].where.from_override);
  EXPECT_NE(bad[0].describe().find("did you mean 'steps'"), std::string::npos) << bad[0].describe();
  EXPECT_FALSE(issues_of(minimal, {"nonsense"}).empty());
}

TEST(Config, ScientificNotationIsANumber) {
  const RunDescription d = parse_run_description(std::string(minimal) + "propagation: {dt: 1e-3, steps: 1e2}\n", here);
  EXPECT_DOUBLE_EQ(d.dt, 1e-3);
  EXPECT_EQ(d.steps, 100);
}

TEST(Config, UnknownKeyGetsADidYouMean) {
  const auto issues = issues_of(std::string(minimal) + "kernel:\n  presett: box\n");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].where.key, "kernel.presett");
  EXPECT_EQ(issues[0].where.line, 5);
  EXPECT_EQ(issues[0].where.column, 3);
  EXPECT_NE(issues[0].describe().find("did you mean 'preset'"), std::string::npos);
  EXPECT_NE(issues[0].describe().find("config.yaml:5:3"), std::string::npos) << issues[0].describe();
}

TEST(Config, EveryProblemIsReportedWithItsPlace) {
  const auto issues = issues_of(std::string(minimal) +
                                "kernel: {preset: box, size: 4}\n"
                                "propagation:\n  steps: many\n  boundary: mirror\n  mode: quantum\n"
                                "output: {every: 0}\n");
  EXPECT_TRUE(mentions(issues, "kernel.size", "odd")) ;
  EXPECT_TRUE(mentions(issues, "propagation.steps", "whole number"));
  EXPECT_TRUE(mentions(issues, "propagation.boundary", "mirror"));
  EXPECT_TRUE(mentions(issues, "propagation.mode", "expected deterministic, stochastic, collapse or spectral"));
  EXPECT_TRUE(mentions(issues, "output.every", ">= 1"));
  for (const auto& i : issues) EXPECT_GT(i.where.line, 0) << i.describe();
}

TEST(Config, NonFiniteKernelEntriesAreRejectedWithTheirPosition) {
  const auto issues = issues_of(std::string(minimal) + "kernel:\n  values: [[0, 1, 0], [1, .inf, 1], [0, 1, .nan]]\n");
  EXPECT_TRUE(mentions(issues, "kernel.values[1][1]", "finite"));
  EXPECT_TRUE(mentions(issues, "kernel.values[2][2]", "finite"));
}

TEST(Config, ExplicitValuesAndRaggedOrEvenKernels) {
  const RunDescription d =
      parse_run_description(std::string(minimal) + "kernel:\n  values: [[0, 1, 0], [1, 4, 1], [0, 1, 0]]\n  normalize: sum\n", here);
  EXPECT_DOUBLE_EQ(d.propagator.at(0, 1, 1), 0.5);
  EXPECT_FALSE(issues_of(std::string(minimal) + "kernel:\n  values: [[0, 1, 0], [1, 4]]\n").empty());
  EXPECT_TRUE(mentions(issues_of(std::string(minimal) + "kernel:\n  values: [[1, 1], [1, 1]]\n"), "kernel.values", "odd"));
  // A 1D kernel on a 2D grid acts along x.
  const RunDescription one = parse_run_description(std::string(minimal) + "kernel: {values: [1, 2, 5], normalize: sum}\n", here);
  EXPECT_EQ(one.propagator.extent, (std::array<int, 3>{1, 1, 3}));
}

TEST(Config, MissingFilesAndWrongTypes) {
  EXPECT_TRUE(mentions(issues_of("input: {image: nowhere.png}\n"), "input.image", "not found"));
  EXPECT_TRUE(mentions(issues_of(std::string(minimal) + "output: {png: maybe}\n"), "output.png", "true or false"));
  EXPECT_TRUE(mentions(issues_of(std::string(minimal) + "kernel: {preset: gausian}\n"), "kernel.preset", "did you mean 'gaussian'"));
  EXPECT_TRUE(mentions(issues_of(std::string(minimal) + "kernel: {temperature: 0}\n"), "kernel.temperature", "> 0"));
  EXPECT_TRUE(mentions(issues_of(std::string(minimal) + "kernel: {preset: laplacian, normalize: sum}\n"), "kernel.normalize", "non-negative"));
  EXPECT_FALSE(issues_of("input: {synthetic: {shape: [4, 4], at: [9, 1]}}\n").empty());
  EXPECT_FALSE(issues_of("- just\n- a list\n").empty());
}

TEST(Config, MalformedYamlNamesTheLine) {
  try {
    parse_run_description("name: x\ninput: [unclosed\n", here);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.issues().size(), 1u);
    EXPECT_GT(e.issues()[0].where.line, 0);
    EXPECT_NE(e.issues()[0].message.find("malformed YAML"), std::string::npos);
  }
}

TEST(Config, PathsAreRelativeToTheConfigFile) {
  const std::filesystem::path cfg = std::filesystem::path(PROPAGON_SOURCE_DIR) / "configs" / "default.yaml";
  const RunDescription d = load_run_description(cfg);
  EXPECT_EQ(d.input.image, std::filesystem::path(PROPAGON_SOURCE_DIR) / "configs" / "images" / "astronaut.png");
}

TEST(Config, ClosestMatch) {
  EXPECT_EQ(closest_match("boundry", {"mode", "boundary", "steps"}), "boundary");
  EXPECT_EQ(closest_match("zzzzzz", {"mode", "boundary", "steps"}), "");
}

TEST(Config, SigmaOnAnotherPresetIsANoteNotAnError) {
  // So that --set kernel.preset=box works on the default (gaussian) config.
  const RunDescription d =
      parse_run_description(std::string(minimal) + "kernel: {preset: gaussian, sigma: 2}\n", here, {"kernel.preset=box"});
  EXPECT_EQ(d.propagator.preset, "box");
  ASSERT_EQ(d.notes.size(), 1u);
  EXPECT_NE(d.notes[0].find("kernel.sigma: ignored"), std::string::npos) << d.notes[0];
}

TEST(Config, DuplicateKeysAreRefused) {
  // yaml-cpp keeps the first of two equal keys; an appended block must not be ignored silently.
  const auto issues = issues_of(std::string(minimal) + "propagation: {steps: 5}\npropagation: {steps: 7}\n");
  EXPECT_TRUE(mentions(issues, "propagation", "duplicate key")) << (issues.empty() ? "" : issues[0].describe());
}

TEST(Config, SetNullRemovesAKey) {
  const std::string cfg = std::string(minimal) + "kernel: {preset: gaussian, sigma: 2}\n";
  const RunDescription d = parse_run_description(cfg, here, {"kernel.preset=null", "kernel.sigma=~", "kernel.values=[1,2,1]",
                                                             "kernel.normalize=sum"});
  EXPECT_EQ(d.propagator.preset, "custom");
  EXPECT_DOUBLE_EQ(d.propagator.at(0, 0, 1), 0.5);
}

TEST(Config, ProblemsFromSetAreBlamedOnSet) {
  const auto issues = issues_of(minimal, {"foo.bar=1"});
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_TRUE(issues[0].where.from_override) << issues[0].describe();
  EXPECT_NE(issues[0].describe().find("--set foo"), std::string::npos) << issues[0].describe();
}

TEST(Config, EffectiveConfigUsesAbsolutePaths) {
  const std::filesystem::path cfg = std::filesystem::path(PROPAGON_SOURCE_DIR) / "configs" / "default.yaml";
  const RunDescription d = load_run_description(std::filesystem::relative(cfg));
  EXPECT_TRUE(d.input.image.is_absolute());
  // The stored configuration validates from anywhere, e.g. saved into another folder.
  const RunDescription again = parse_run_description(d.effective_yaml, std::filesystem::temp_directory_path() / "x.yaml");
  EXPECT_EQ(again.input.image, d.input.image);
}

TEST(Config, ErrorsNameTheKeyTheUserWrote) {
  const auto issues = issues_of("input: {synthetic: {shape: [4, 4, 4]}}\nkernel: {preset: sobel_x}\n");
  EXPECT_TRUE(mentions(issues, "kernel.preset", "only in 2D")) << (issues.empty() ? "" : issues[0].describe());
  // A bad normalisation does not hide a bad sigma.
  const auto two = issues_of(std::string(minimal) + "kernel: {preset: gaussian, sigma: -2, normalize: softmx}\n");
  EXPECT_TRUE(mentions(two, "kernel.sigma", "sigma > 0"));
  EXPECT_TRUE(mentions(two, "kernel.normalize", "softmax"));
}

TEST(Config, TabsInIndentationGetAHint) {
  const auto issues = issues_of("name: t\ninput:\n\tsynthetic: {shape: [4]}\n");
  ASSERT_FALSE(issues.empty());
  EXPECT_NE(issues[0].message.find("tab"), std::string::npos) << issues[0].describe();
}

TEST(Config, UnusedPatternKeysAreNoted) {
  const RunDescription d = parse_run_description("input: {synthetic: {shape: [5, 5], pattern: uniform, sigma: 3}}\n", here);
  ASSERT_EQ(d.notes.size(), 1u);
  EXPECT_NE(d.notes[0].find("input.synthetic.sigma: ignored"), std::string::npos) << d.notes[0];
}

TEST(Config, PathsGivenWithSetAreRelativeToTheWorkingFolder) {
  // As on any command line: --set input.image=x.png means ./x.png, not a path beside the config.
  const std::filesystem::path cfg = std::filesystem::path(PROPAGON_SOURCE_DIR) / "tests" / "data" / "c.yaml";
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(PROPAGON_SOURCE_DIR);
  const RunDescription d = parse_run_description("input: {image: nowhere.png}\n", cfg, {"input.image=configs/images/camera.png"});
  std::filesystem::current_path(cwd);
  EXPECT_EQ(d.input.image, std::filesystem::path(PROPAGON_SOURCE_DIR) / "configs" / "images" / "camera.png");
}
