#include "propagon/error.hpp"

#include <fmt/format.h>

namespace propagon {

std::string SourceLocation::describe() const {
  if (from_override) return fmt::format("--set {}", key);
  std::string s = file;
  if (line > 0) s += fmt::format(":{}:{}", line, column);
  if (!key.empty()) s += (s.empty() ? "" : ": ") + key;
  return s;
}

std::string ConfigIssue::describe() const { return fmt::format("{}: {}", where.describe(), message); }

namespace {
std::string join_issues(const std::vector<ConfigIssue>& issues) {
  std::string s;
  for (const auto& i : issues) s += (s.empty() ? "" : "\n") + i.describe();
  return s;
}
}  // namespace

ConfigError::ConfigError(std::vector<ConfigIssue> issues)
    : InputError(join_issues(issues)), issues_(std::move(issues)) {}

}  // namespace propagon
