// Checkpoint and restart, graceful stops (SIGINT/SIGTERM) and crash safety (SIGKILL), through the
// real program in child processes.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "propagon/snapshot.hpp"
#include "scratch.hpp"

extern char** environ;

using namespace propagon;
namespace fs = std::filesystem;

namespace {
pid_t spawn(const std::vector<std::string>& args, const std::string& stderr_file = "/dev/null") {
  std::vector<char*> argv;
  std::string exe = PROPAGON_BINARY;
  argv.push_back(exe.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 2, stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int run(const std::vector<std::string>& args) { return wait_exit(spawn(args)); }

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

fs::path write_config(const fs::path& dir, const std::string& name, const std::string& body) {
  std::ofstream(dir / (name + ".yaml")) << body;
  return dir / (name + ".yaml");
}

// Same bits: the fields as stored (read back exactly), the counts of every replicate, the history.
void expect_same_state(const fs::path& a, const fs::path& b, const std::vector<std::string>& channels, bool stochastic,
                       std::int64_t replicates) {
  const RestartState x = read_restart_state(a, channels, stochastic, replicates);
  const RestartState y = read_restart_state(b, channels, stochastic, replicates);
  EXPECT_EQ(x.step, y.step);
  EXPECT_EQ(x.fields_f32, y.fields_f32);
  EXPECT_EQ(x.fields_f64, y.fields_f64);
  EXPECT_EQ(x.counts, y.counts);
  EXPECT_EQ(x.absorbed, y.absorbed);
  EXPECT_EQ(x.absorbed_particles, y.absorbed_particles);
  const SnapshotData sa = read_snapshot(a), sb = read_snapshot(b);
  EXPECT_EQ(sa.values, sb.values);
  EXPECT_EQ(sa.ensemble_mean, sb.ensemble_mean);
  EXPECT_EQ(sa.ensemble_var, sb.ensemble_var);
}
}  // namespace

TEST(Restart, ContinuesWithTheSameBitsInEveryMode) {
  struct Case {
    const char* name;
    const char* propagation;
    bool stochastic;
    std::int64_t replicates;
  };
  const Case cases[] = {
      {"det32", "mode: deterministic, boundary: absorb, precision: float32", false, 1},
      {"det64", "mode: deterministic, boundary: reflect, precision: float64", false, 1},
      {"sto", "mode: stochastic, boundary: absorb, replicates: 3, seed: 7", true, 3},
      {"sto1", "mode: stochastic, boundary: periodic, particles_per_unit: 50", true, 1},
      {"col", "mode: collapse, boundary: clamp, replicates: 2", true, 2},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const fs::path dir = propagon::testing::scratch_dir(std::string("restart_") + c.name);
    const fs::path cfg = write_config(dir, c.name,
                                      std::string("name: ") + c.name +
                                          "\ninput: {synthetic: {shape: [20, 30], pattern: random, value: 2}}\n"
                                          "kernel: {preset: gaussian, size: 5, sigma: 1.2}\npropagation: {" +
                                          c.propagation + ", steps: 24}\noutput: {every: 6}\n");
    ASSERT_EQ(run({"run", cfg.string(), "--output", (dir / "full").string(), "-q", "--no-progress"}), 0);
    // The same run stopped at step 12, then continued to 24 from its snapshot.
    ASSERT_EQ(run({"run", cfg.string(), "--output", (dir / "split").string(), "-q", "--no-progress", "--set",
                   "propagation.steps=12"}),
              0);
    ASSERT_EQ(run({"run", cfg.string(), "--output", (dir / "split").string(), "-q", "--no-progress", "--restart",
                   (dir / "split" / "snapshots" / "step_000012.h5").string()}),
              0);
    for (int step : {12, 18, 24})
      expect_same_state(dir / "full" / "snapshots" / snapshot_layout::file_name(step),
                        dir / "split" / "snapshots" / snapshot_layout::file_name(step), {"c"}, c.stochastic, c.replicates);
    EXPECT_EQ(read_text(dir / "full" / "history.csv"), read_text(dir / "split" / "history.csv"));
    // The index lists every snapshot once, in order.
    const std::string xmf = read_text(dir / "split" / (std::string(c.name) + ".xmf"));
    std::size_t count = 0;
    for (std::size_t at = xmf.find("<Time "); at != std::string::npos; at = xmf.find("<Time ", at + 1)) ++count;
    EXPECT_EQ(count, 5u);
    EXPECT_LT(xmf.find("step_000006.h5"), xmf.find("step_000018.h5"));
  }
}

TEST(Restart, ContinuesInTheSnapshotsFolderByDefault) {
  // Without --output a restart continues the run the snapshot belongs to, not the config's folder.
  const fs::path dir = propagon::testing::scratch_dir("restart_folder");
  const fs::path elsewhere = dir / "config_folder";
  const fs::path cfg = write_config(dir, "f", "name: f\ninput: {synthetic: {shape: [8, 8]}}\npropagation: {steps: 6}\n"
                                                "output: {every: 3, dir: " + elsewhere.string() + "}\n");
  ASSERT_EQ(run({"run", cfg.string(), "-o", (dir / "mine").string(), "-q", "--no-progress", "--set", "propagation.steps=3"}), 0);
  ASSERT_EQ(run({"run", cfg.string(), "-q", "--no-progress", "--restart", (dir / "mine" / "snapshots" / "step_000003.h5").string()}), 0);
  EXPECT_TRUE(fs::exists(dir / "mine" / "snapshots" / "step_000006.h5"));
  EXPECT_FALSE(fs::exists(elsewhere));
}

TEST(Restart, RefusesASnapshotOfAnotherRun) {
  const fs::path dir = propagon::testing::scratch_dir("restart_mismatch");
  const fs::path cfg = write_config(dir, "m", "input: {synthetic: {shape: [8, 8]}}\npropagation: {steps: 4}\n");
  ASSERT_EQ(run({"run", cfg.string(), "-o", (dir / "out").string(), "-q", "--no-progress"}), 0);
  const std::string snap = (dir / "out" / "snapshots" / "step_000004.h5").string();
  EXPECT_EQ(run({"run", cfg.string(), "-o", (dir / "out").string(), "-q", "--restart", snap, "--set", "kernel.preset=box"}), 2);
  EXPECT_EQ(run({"run", cfg.string(), "-o", (dir / "out").string(), "-q", "--restart", snap, "--set", "propagation.steps=2"}), 2);
  EXPECT_EQ(run({"run", cfg.string(), "-o", (dir / "out").string(), "-q", "--restart", (dir / "nope.h5").string()}), 2);
}

namespace {
// Starts a long run and waits until it has written its first snapshot and a few steps beyond.
pid_t start_long_run(const fs::path& dir, const std::string& every, const std::string& stderr_file = "/dev/null") {
  const fs::path cfg = write_config(dir, "long",
                                    "name: long\ninput: {synthetic: {shape: [160, 160], pattern: random}}\n"
                                    "kernel: {preset: box}\npropagation: {steps: 1000000}\noutput: {every: " + every + "}\n");
  const pid_t pid = spawn({"run", cfg.string(), "-o", (dir / "out").string(), "--no-progress", "-q"}, stderr_file);
  for (int i = 0; i < 200 && !fs::exists(dir / "out" / "snapshots" / "step_000000.h5"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  return pid;
}
}  // namespace

TEST(Restart, SigintFinishesTheStepAndWritesAFinalSnapshot) {
  for (int sig : {SIGINT, SIGTERM}) {
    const fs::path dir = propagon::testing::scratch_dir("sigint");
    const pid_t pid = start_long_run(dir, "100000", (dir / "stderr.txt").string());
    kill(pid, sig);
    EXPECT_EQ(wait_exit(pid), 128 + sig);
    // The message repeats the whole command line (its -o too) with --restart added.
    const std::string err = read_text(dir / "stderr.txt");
    EXPECT_NE(err.find("continue with: " + std::string(PROPAGON_BINARY) + " run "), std::string::npos) << err;
    EXPECT_NE(err.find("-o " + (dir / "out").string()), std::string::npos) << err;
    EXPECT_NE(err.find("--restart " + (dir / "out" / "snapshots").string()), std::string::npos) << err;
    // Step 0 and the step the stop arrived at.
    std::vector<std::int64_t> steps;
    for (const auto& e : fs::directory_iterator(dir / "out" / "snapshots")) {
      const auto s = snapshot_layout::step_of(e.path().filename().string());
      ASSERT_TRUE(s.has_value()) << "stray file " << e.path();
      steps.push_back(*s);
    }
    std::sort(steps.begin(), steps.end());
    ASSERT_EQ(steps.size(), 2u);
    ASSERT_GT(steps[1], 0);
    const SnapshotData last = read_snapshot(dir / "out" / "snapshots" / snapshot_layout::file_name(steps[1]));
    EXPECT_EQ(last.header.step, steps[1]);
    // The history is complete up to that step.
    std::istringstream hist(read_text(dir / "out" / "history.csv"));
    std::string line, last_line;
    int rows = -1;
    while (std::getline(hist, line)) ++rows, last_line = line;
    EXPECT_EQ(rows, steps[1] + 1);
    EXPECT_EQ(std::stoll(last_line.substr(0, last_line.find(','))), steps[1]);
  }
}

TEST(Restart, AfterSigkillEveryCompletedSnapshotIsReadable) {
  const fs::path dir = propagon::testing::scratch_dir("sigkill");
  const pid_t pid = start_long_run(dir, "1");
  kill(pid, SIGKILL);
  wait_exit(pid);
  int complete = 0;
  for (const auto& e : fs::directory_iterator(dir / "out" / "snapshots")) {
    const std::string name = e.path().filename().string();
    if (!snapshot_layout::step_of(name)) {
      EXPECT_EQ(e.path().extension(), ".tmp") << "a file with neither a final nor a temporary name: " << name;
      continue;
    }
    EXPECT_NO_THROW(read_snapshot(e.path())) << name;  // a final name means a complete file
    ++complete;
  }
  EXPECT_GT(complete, 1);
  // The index refers only to complete snapshots; the history ends with a whole row.
  const std::string xmf = read_text(dir / "out" / "long.xmf");
  for (std::size_t at = xmf.find("snapshots/step_"); at != std::string::npos; at = xmf.find("snapshots/step_", at + 1)) {
    const std::string file = xmf.substr(at, xmf.find(':', at) - at);
    EXPECT_TRUE(fs::exists(dir / "out" / file)) << file;
  }
  const std::string hist = read_text(dir / "out" / "history.csv");
  ASSERT_FALSE(hist.empty());
  EXPECT_EQ(hist.back(), '\n');
}
