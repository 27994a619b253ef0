#pragma once
/// @file error.hpp
/// Exceptions that carry enough context (file, line, key) for `main` to print one clear message.
#include <stdexcept>
#include <string>
#include <vector>

namespace propagon {

/// Where in a configuration a value came from. line/column are 1-based; 0 means unknown
/// (for instance a value given on the command line with --set).
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
  std::string key;  ///< dotted path, e.g. "propagation.steps"
  bool from_override = false;
  std::string describe() const;
};

/// One problem found while reading a configuration.
struct ConfigIssue {
  SourceLocation where;
  std::string message;
  std::string describe() const;
};

/// Bad configuration or input data: the run never starts and nothing is written (exit code 2).
class InputError : public std::runtime_error {
 public:
  explicit InputError(const std::string& message) : std::runtime_error(message) {}
};

/// Every problem found in a configuration, reported together (exit code 2).
class ConfigError : public InputError {
 public:
  explicit ConfigError(std::vector<ConfigIssue> issues);
  const std::vector<ConfigIssue>& issues() const { return issues_; }

 private:
  std::vector<ConfigIssue> issues_;
};

/// Bad input found only once the run had started (a Catalyst script failing at its first frame):
/// exit code 2 like any bad input, but the initial snapshot may already be written.
class StartError : public InputError {
 public:
  explicit StartError(const std::string& message) : InputError(message) {}
};

/// A failure while the run is going (I/O, resources): exit code 1.
class RunError : public std::runtime_error {
 public:
  explicit RunError(const std::string& message) : std::runtime_error(message) {}
};

/// Documented process exit codes.
namespace exit_code {
inline constexpr int success = 0;
inline constexpr int run_failure = 1;
inline constexpr int bad_input = 2;
}  // namespace exit_code

}  // namespace propagon
