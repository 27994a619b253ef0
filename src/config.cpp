#include "propagon/config.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "hdf5.hpp"
#include "propagon/error.hpp"
#include "propagon/insitu.hpp"

namespace propagon {

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::deterministic: return "deterministic";
    case Mode::stochastic: return "stochastic";
    case Mode::collapse: return "collapse";
    case Mode::spectral: return "spectral";
  }
  return "?";
}
const char* precision_name(Precision p) { return p == Precision::float32 ? "float32" : "float64"; }

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  auto distance = [](const std::string& a, const std::string& b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
      cur[0] = i;
      for (std::size_t j = 1; j <= b.size(); ++j)
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      std::swap(prev, cur);
    }
    return prev[b.size()];
  };
  std::string best;
  std::size_t best_d = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    const std::size_t d = distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

namespace {

// Walks the YAML tree, converting and checking values, collecting every problem with where it is.
class ConfigReader {
 public:
  ConfigReader(std::string file, std::set<std::string> overridden)
      : file_(std::move(file)), overridden_(std::move(overridden)) {}

  SourceLocation where(const YAML::Node& node, const std::string& key) const {
    SourceLocation loc;
    loc.file = file_;
    loc.key = key;
    // A key given with --set, or a block that only exists because of one.
    const bool has_no_place = !node.IsDefined() || node.Mark().line < 0;
    const bool below_an_override = std::any_of(overridden_.begin(), overridden_.end(),
                                               [&](const std::string& o) { return o.rfind(key + ".", 0) == 0; });
    // ...or an element of a list given with --set (catalyst.scripts[0] of --set catalyst.scripts=[...]).
    const std::size_t bracket = key.find('[');
    const bool element_of_override = bracket != std::string::npos && overridden_.count(key.substr(0, bracket)) > 0;
    loc.from_override = overridden_.count(key) > 0 || element_of_override || (has_no_place && below_an_override);
    if (node.IsDefined() && node.Mark().line >= 0) {
      loc.line = node.Mark().line + 1;
      loc.column = node.Mark().column + 1;
    }
    return loc;
  }
  void error(const YAML::Node& node, const std::string& key, const std::string& message) {
    issues_.push_back({where(node, key), message});
  }
  const std::vector<ConfigIssue>& issues() const { return issues_; }

  /// Reports keys not in `allowed`, with a "did you mean" suggestion.
  void check_keys(const YAML::Node& map, const std::string& prefix, const std::vector<std::string>& allowed) {
    std::map<std::string, int> seen;  // YAML keeps the first of two equal keys: refuse, not ignore
    for (auto it = map.begin(); it != map.end(); ++it) {
      const std::string key = it->first.Scalar();
      const int line = it->first.Mark().line + 1;
      if (!seen.emplace(key, line).second) {
        error(it->first, join(prefix, key),
              fmt::format("duplicate key '{}' (first given on line {}); YAML would silently keep the first", key, seen[key]));
        continue;
      }
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      const std::string hint = closest_match(key, allowed);
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      error(it->first, join(prefix, key),
            hint.empty() ? fmt::format("unknown key '{}' (allowed here: {})", key, list)
                         : fmt::format("unknown key '{}'; did you mean '{}'?", key, hint));
    }
  }

  /// A child block that must be a map if present. Returns an undefined node otherwise.
  YAML::Node block(const YAML::Node& parent, const std::string& key, const std::string& prefix) {
    YAML::Node n = parent[key];
    if (!n.IsDefined() || n.IsNull()) return YAML::Node(YAML::NodeType::Undefined);
    if (!n.IsMap()) {
      error(n, join(prefix, key), "expected a block of keys (a YAML mapping)");
      return YAML::Node(YAML::NodeType::Undefined);
    }
    return n;
  }

  std::optional<double> number(const YAML::Node& parent, const std::string& key, const std::string& prefix,
                               const char* expectation) {
    const YAML::Node n = parent[key];
    if (!n.IsDefined() || n.IsNull()) return std::nullopt;
    return number_of(n, join(prefix, key), expectation);
  }
  std::optional<double> number_of(const YAML::Node& n, const std::string& path, const char* expectation) {
    double v = 0;
    if (!n.IsScalar() || !YAML::convert<double>::decode(n, v)) {
      error(n, path, fmt::format("expected {}, got {}", expectation, show(n)));
      return std::nullopt;
    }
    return v;
  }
  std::optional<std::int64_t> integer(const YAML::Node& parent, const std::string& key, const std::string& prefix,
                                      std::int64_t minimum, const char* expectation) {
    const YAML::Node n = parent[key];
    if (!n.IsDefined() || n.IsNull()) return std::nullopt;
    return integer_of(n, join(prefix, key), minimum, expectation);
  }
  std::optional<std::int64_t> integer_of(const YAML::Node& n, const std::string& path, std::int64_t minimum,
                                         const char* expectation) {
    double v = 0;
    // Whole numbers may be written 1e3; anything fractional, non-finite or too small is refused.
    if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) || !std::isfinite(v) || v != std::floor(v) ||
        v < double(minimum) || v > 9.0e15) {
      error(n, path, fmt::format("expected {}{}, got {}", expectation, v > 9.0e15 ? " (at most 9e15)" : "", show(n)));
      return std::nullopt;
    }
    return static_cast<std::int64_t>(v);
  }
  std::optional<std::string> text(const YAML::Node& parent, const std::string& key, const std::string& prefix) {
    const YAML::Node n = parent[key];
    if (!n.IsDefined() || n.IsNull()) return std::nullopt;
    if (!n.IsScalar()) {
      error(n, join(prefix, key), fmt::format("expected a text value, got {}", show(n)));
      return std::nullopt;
    }
    return n.Scalar();
  }
  std::optional<bool> boolean(const YAML::Node& parent, const std::string& key, const std::string& prefix) {
    const YAML::Node n = parent[key];
    if (!n.IsDefined() || n.IsNull()) return std::nullopt;
    bool v = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) {
      error(n, join(prefix, key), fmt::format("expected true or false, got {}", show(n)));
      return std::nullopt;
    }
    return v;
  }
  /// A list of numbers (a single number is accepted as a one-entry list when `scalar_ok`).
  std::optional<std::vector<double>> numbers(const YAML::Node& parent, const std::string& key,
                                             const std::string& prefix, bool scalar_ok, const char* expectation) {
    const YAML::Node n = parent[key];
    if (!n.IsDefined() || n.IsNull()) return std::nullopt;
    const std::string path = join(prefix, key);
    std::vector<double> out;
    if (n.IsScalar() && scalar_ok) {
      auto v = number_of(n, path, expectation);
      if (!v) return std::nullopt;
      return std::vector<double>{*v};
    }
    if (!n.IsSequence()) {
      error(n, path, fmt::format("expected {}, got {}", expectation, show(n)));
      return std::nullopt;
    }
    bool ok = true;
    for (std::size_t i = 0; i < n.size(); ++i) {
      auto v = number_of(n[i], fmt::format("{}[{}]", path, i), expectation);
      if (v) out.push_back(*v);
      else ok = false;
    }
    if (!ok) return std::nullopt;
    return out;
  }

  static std::string join(const std::string& prefix, const std::string& key) {
    return prefix.empty() ? key : prefix + "." + key;
  }
  static std::string show(const YAML::Node& n) {
    if (n.IsScalar()) return fmt::format("'{}'", n.Scalar());
    if (n.IsSequence()) return "a list";
    if (n.IsMap()) return "a block of keys";
    return "nothing";
  }

 private:
  std::string file_;
  std::set<std::string> overridden_;
  std::vector<ConfigIssue> issues_;
};

// --set a.b.c=value: the value is parsed as YAML, so numbers, lists and booleans keep their type.
void apply_override(YAML::Node root, const std::string& assignment, std::set<std::string>& overridden,
                    std::vector<ConfigIssue>& issues) {
  const std::size_t eq = assignment.find('=');
  SourceLocation loc;
  loc.from_override = true;
  loc.key = assignment;
  if (eq == std::string::npos || eq == 0) {
    issues.push_back({loc, "expected KEY=VALUE, for example --set propagation.steps=10"});
    return;
  }
  const std::string key = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  loc.key = key;
  std::vector<std::string> parts;
  std::stringstream ss(key);
  for (std::string p; std::getline(ss, p, '.');) parts.push_back(p);
  if (std::any_of(parts.begin(), parts.end(), [](const std::string& p) { return p.empty(); })) {
    issues.push_back({loc, "the key has an empty component"});
    return;
  }
  YAML::Node value;
  try {
    value = YAML::Load(text);
  } catch (const YAML::Exception&) {
    value = YAML::Node(text);
  }
  const bool remove = value.IsDefined() && value.IsNull() && (text == "null" || text == "~" || text == "Null" || text == "NULL");
  if (!value.IsDefined() || (value.IsNull() && !remove)) value = YAML::Node(text);
  YAML::Node node = root;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    YAML::Node child = node[parts[i]];
    if (child.IsDefined() && !child.IsNull() && !child.IsMap()) {
      issues.push_back({loc, fmt::format("'{}' is not a block of keys, so it has no '{}'", parts[i], parts[i + 1])});
      return;
    }
    if (!child.IsDefined() || child.IsNull()) node[parts[i]] = YAML::Node(YAML::NodeType::Map);
    node.reset(node[parts[i]]);
  }
  // KEY=null removes the key, e.g. --set kernel.preset=null --set kernel.values=[1,2,1].
  if (remove) node.remove(parts.back());
  else node[parts.back()] = value;
  overridden.insert(key);
}

const std::vector<std::string> top_keys = {"name", "input", "kernel", "propagation", "output", "catalyst"};
const std::vector<std::string> catalyst_keys = {"scripts", "every"};
const std::vector<std::string> input_keys = {"image", "synthetic", "hdf5", "scale", "spacing", "origin"};
const std::vector<std::string> synthetic_keys = {"shape", "pattern", "at", "value", "sigma", "period", "seed"};
const std::vector<std::string> hdf5_keys = {"file", "dataset", "datasets"};
const std::vector<std::string> kernel_keys = {"preset", "size", "sigma", "values", "normalize", "temperature"};
const std::vector<std::string> propagation_keys = {"mode",      "steps", "dt", "boundary", "precision",
                                                   "seed",      "particles_per_unit", "replicates"};
const std::vector<std::string> output_keys = {"dir", "every", "png"};
const std::vector<std::string> patterns = {"point", "uniform", "gaussian", "checkerboard", "random", "tanks"};

// Nested lists of numbers -> shape and C-order values; reports ragged lists and bad entries.
bool flatten_values(ConfigReader& r, const YAML::Node& n, const std::string& path, int depth,
                    std::vector<int>& shape, std::vector<double>& out) {
  if (!n.IsSequence()) {
    r.error(n, path, "expected nested lists of numbers (1 to 3 levels), odd length on every level");
    return false;
  }
  if (static_cast<int>(shape.size()) <= depth) shape.push_back(static_cast<int>(n.size()));
  if (shape[depth] != static_cast<int>(n.size())) {
    r.error(n, path, fmt::format("ragged kernel: this list has {} entries, its siblings {}", n.size(), shape[depth]));
    return false;
  }
  bool ok = true;
  for (std::size_t i = 0; i < n.size(); ++i) {
    const std::string p = fmt::format("{}[{}]", path, i);
    if (n[i].IsSequence()) {
      if (depth >= 2) {
        r.error(n[i], p, "kernels have at most 3 dimensions");
        return false;
      }
      ok = flatten_values(r, n[i], p, depth + 1, shape, out) && ok;
    } else {
      if (static_cast<int>(shape.size()) > depth + 1) {
        r.error(n[i], p, "ragged kernel: expected a list here, like its siblings");
        return false;
      }
      auto v = r.number_of(n[i], p, "a number");
      if (!v) {
        ok = false;
        continue;
      }
      if (!std::isfinite(*v)) {
        r.error(n[i], p, fmt::format("kernel entries must be finite numbers, got '{}'", n[i].Scalar()));
        ok = false;
        continue;
      }
      out.push_back(*v);
    }
  }
  return ok;
}

std::string channel_name_of(const std::string& dataset) {
  const std::size_t slash = dataset.find_last_of('/');
  return slash == std::string::npos ? dataset : dataset.substr(slash + 1);
}

YAML::Node sequence_of(const std::vector<double>& v) {
  YAML::Node n(YAML::NodeType::Sequence);
  for (double x : v) n.push_back(x);
  n.SetStyle(YAML::EmitterStyle::Flow);
  return n;
}
template <class I>
YAML::Node int_sequence_of(const std::vector<I>& v) {
  YAML::Node n(YAML::NodeType::Sequence);
  for (auto x : v) n.push_back(static_cast<long long>(x));
  n.SetStyle(YAML::EmitterStyle::Flow);
  return n;
}

}  // namespace

std::string effective_yaml(const RunDescription& d) {
  YAML::Node root(YAML::NodeType::Map);
  root["name"] = d.name;
  YAML::Node in(YAML::NodeType::Map);
  switch (d.input.kind) {
    case InputDescription::Kind::image: in["image"] = d.input.image.string(); break;
    case InputDescription::Kind::synthetic: {
      const auto& s = d.input.synthetic;
      YAML::Node sn(YAML::NodeType::Map);
      sn["shape"] = int_sequence_of(s.shape);
      sn["pattern"] = s.pattern;
      sn["at"] = sequence_of(s.at);
      sn["value"] = s.value;
      sn["sigma"] = s.sigma;
      sn["period"] = static_cast<long long>(s.period);
      sn["seed"] = static_cast<unsigned long long>(s.seed);
      in["synthetic"] = sn;
      break;
    }
    case InputDescription::Kind::hdf5: {
      YAML::Node hn(YAML::NodeType::Map);
      hn["file"] = d.input.hdf5_file.string();
      YAML::Node ds(YAML::NodeType::Sequence);
      for (const auto& s : d.input.hdf5_datasets) ds.push_back(s);
      ds.SetStyle(YAML::EmitterStyle::Flow);
      hn["datasets"] = ds;
      in["hdf5"] = hn;
      break;
    }
  }
  in["scale"] = d.input.scale;
  in["spacing"] = sequence_of(d.input.spacing);
  in["origin"] = sequence_of(d.input.origin);
  root["input"] = in;
  YAML::Node k(YAML::NodeType::Map);
  if (d.kernel.preset != "custom") {
    k["preset"] = d.kernel.preset;
    k["size"] = int_sequence_of(d.kernel.shape());
    if (d.kernel.preset == "gaussian") k["sigma"] = d.kernel.sigma;
  } else {
    // Explicit values, written back nested with the kernel's shape.
    const auto shape = d.kernel.shape();
    std::function<YAML::Node(std::size_t, std::size_t&)> nest = [&](std::size_t depth, std::size_t& i) {
      YAML::Node n(YAML::NodeType::Sequence);
      for (int j = 0; j < shape[depth]; ++j) {
        if (depth + 1 == shape.size()) n.push_back(d.kernel.values[i++]);
        else n.push_back(nest(depth + 1, i));
      }
      n.SetStyle(YAML::EmitterStyle::Flow);
      return n;
    };
    std::size_t i = 0;
    k["values"] = nest(0, i);
  }
  k["normalize"] = normalization_name(d.propagator.normalize);
  k["temperature"] = d.propagator.temperature;
  root["kernel"] = k;
  YAML::Node p(YAML::NodeType::Map);
  p["mode"] = mode_name(d.mode);
  p["steps"] = static_cast<long long>(d.steps);
  p["dt"] = d.dt;
  p["boundary"] = boundary_name(d.boundary);
  p["precision"] = precision_name(d.precision);
  if (is_stochastic(d.mode)) {
    p["seed"] = static_cast<unsigned long long>(d.seed);
    p["particles_per_unit"] = d.particles_per_unit;
    p["replicates"] = static_cast<long long>(d.replicates);
  }
  root["propagation"] = p;
  YAML::Node o(YAML::NodeType::Map);
  o["dir"] = d.output_dir.string();
  o["every"] = static_cast<long long>(d.output_every);
  o["png"] = d.output_png;
  root["output"] = o;
  if (!d.catalyst_scripts.empty()) {
    YAML::Node c(YAML::NodeType::Map);
    YAML::Node list(YAML::NodeType::Sequence);
    for (const auto& s : d.catalyst_scripts) list.push_back(s.string());
    c["scripts"] = list;
    c["every"] = static_cast<long long>(d.catalyst_every);
    root["catalyst"] = c;
  }
  YAML::Emitter e;
  e << root;
  return std::string(e.c_str()) + "\n";
}

namespace {

bool valid_name(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  }) && s != "." && s != "..";
}

RunDescription describe(const YAML::Node& root, const std::filesystem::path& origin,
                        const std::set<std::string>& overridden) {
  ConfigReader r(origin.string(), overridden);
  RunDescription d;
  d.config_file = origin;
  const std::filesystem::path base = origin.has_parent_path() ? origin.parent_path() : std::filesystem::path(".");
  // Paths in the file are relative to the file; paths given with --set to the folder the command
  // runs from, as on any command line. Absolute either way, so the effective configuration stored in
  // every snapshot runs from any folder.
  auto resolve = [&](const std::string& p, const std::string& key) {
    std::filesystem::path q(p);
    const bool from_command_line = overridden.count(key) > 0;
    return std::filesystem::absolute(q.is_absolute() || from_command_line ? q : base / q).lexically_normal();
  };

  if (!root.IsMap()) {
    r.error(root, "", "the configuration must be a block of keys (name, input, kernel, propagation, output)");
    throw ConfigError(r.issues());
  }
  r.check_keys(root, "", top_keys);
  d.name = r.text(root, "name", "").value_or(origin.stem().string());
  if (!valid_name(d.name)) {
    r.error(root["name"], "name", fmt::format("'{}' must be letters, digits, '-', '_' or '.' (it names files)", d.name));
  }

  // ---- input
  const YAML::Node in = r.block(root, "input", "");
  if (!in.IsDefined()) {
    r.error(root, "input", "missing: say what to diffuse (input.image, input.synthetic or input.hdf5)");
  } else {
    r.check_keys(in, "input", input_keys);
    const int sources = int(in["image"].IsDefined()) + int(in["synthetic"].IsDefined()) + int(in["hdf5"].IsDefined());
    if (sources != 1)
      r.error(in, "input", sources == 0 ? "give one of image, synthetic or hdf5"
                                        : "give only one of image, synthetic or hdf5");
    if (auto img = r.text(in, "image", "input")) {
      d.input.kind = InputDescription::Kind::image;
      d.input.image = resolve(*img, "input.image");
      d.input.rank = 2;
      std::error_code ec;
      if (!std::filesystem::is_regular_file(d.input.image, ec))
        r.error(in["image"], "input.image", fmt::format("image file not found: {}", d.input.image.string()));
    }
    const YAML::Node syn = r.block(in, "synthetic", "input");
    if (syn.IsDefined()) {
      d.input.kind = InputDescription::Kind::synthetic;
      r.check_keys(syn, "input.synthetic", synthetic_keys);
      auto& s = d.input.synthetic;
      const YAML::Node shape = syn["shape"];
      if (!shape.IsDefined() || !shape.IsSequence() || shape.size() < 1 || shape.size() > 3) {
        r.error(shape.IsDefined() ? shape : syn, "input.synthetic.shape", "expected [nx], [ny, nx] or [nz, ny, nx]");
      } else {
        for (std::size_t i = 0; i < shape.size(); ++i)
          if (auto v = r.integer_of(shape[i], fmt::format("input.synthetic.shape[{}]", i), 1, "a whole number >= 1"))
            s.shape.push_back(*v);
        d.input.rank = static_cast<int>(shape.size());
      }
      if (auto p = r.text(syn, "pattern", "input.synthetic")) {
        if (std::find(patterns.begin(), patterns.end(), *p) == patterns.end()) {
          const std::string hint = closest_match(*p, patterns);
          r.error(syn["pattern"], "input.synthetic.pattern",
                  fmt::format("unknown pattern '{}'{}; choose point, uniform, gaussian, checkerboard, random or tanks", *p,
                              hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
        }
        s.pattern = *p;
      }
      if (auto at = r.numbers(syn, "at", "input.synthetic", true, "a list of cell indices, one per axis")) s.at = *at;
      if (auto v = r.number(syn, "value", "input.synthetic", "a number")) {
        if (!std::isfinite(*v)) r.error(syn["value"], "input.synthetic.value", "must be a finite number");
        s.value = *v;
      }
      if (auto v = r.number(syn, "sigma", "input.synthetic", "a number > 0")) {
        if (!(*v > 0) || !std::isfinite(*v)) r.error(syn["sigma"], "input.synthetic.sigma", "must be a finite number > 0");
        s.sigma = *v;
      }
      if (auto v = r.integer(syn, "period", "input.synthetic", 1, "a whole number >= 1")) s.period = *v;
      if (auto v = r.integer(syn, "seed", "input.synthetic", 0, "a whole number >= 0")) s.seed = static_cast<std::uint64_t>(*v);
      const std::map<std::string, std::vector<std::string>> used_by = {
          {"at", {"point", "gaussian"}}, {"sigma", {"gaussian"}}, {"period", {"checkerboard"}}, {"seed", {"random"}}};
      for (const auto& [key, users] : used_by)
        if (syn[key].IsDefined() && std::find(users.begin(), users.end(), s.pattern) == users.end())
          d.notes.push_back(fmt::format("{}: ignored, the '{}' pattern does not use it",
                                        r.where(syn[key], "input.synthetic." + key).describe(), s.pattern));
      if (s.shape.size() == static_cast<std::size_t>(d.input.rank)) {
        if (s.at.empty())
          for (auto n : s.shape) s.at.push_back(double(n / 2));
        if (s.at.size() != s.shape.size()) {
          r.error(syn["at"], "input.synthetic.at", fmt::format("expected {} entries (one per axis)", s.shape.size()));
        } else {
          for (std::size_t i = 0; i < s.at.size(); ++i)
            if (!(s.at[i] >= 0 && s.at[i] <= double(s.shape[i] - 1)))
              r.error(syn["at"], "input.synthetic.at",
                      fmt::format("entry {} is {}, outside the grid [0, {}]", i, s.at[i], s.shape[i] - 1));
          if (s.pattern == "point")
            for (double a : s.at)
              if (a != std::floor(a)) r.error(syn["at"], "input.synthetic.at", "a point source sits on a cell: use whole numbers");
        }
      }
    }
    const YAML::Node h5 = r.block(in, "hdf5", "input");
    if (h5.IsDefined()) {
      d.input.kind = InputDescription::Kind::hdf5;
      r.check_keys(h5, "input.hdf5", hdf5_keys);
      if (auto f = r.text(h5, "file", "input.hdf5")) d.input.hdf5_file = resolve(*f, "input.hdf5.file");
      else r.error(h5, "input.hdf5.file", "missing: the HDF5 file to read");
      if (auto ds = r.text(h5, "dataset", "input.hdf5")) d.input.hdf5_datasets.push_back(*ds);
      const YAML::Node list = h5["datasets"];
      if (list.IsDefined()) {
        if (!list.IsSequence()) r.error(list, "input.hdf5.datasets", "expected a list of dataset paths");
        else
          for (std::size_t i = 0; i < list.size(); ++i) d.input.hdf5_datasets.push_back(list[i].Scalar());
      }
      if (d.input.hdf5_datasets.empty())
        r.error(h5, "input.hdf5", "give dataset: /path or datasets: [/a, /b]");
      if (!d.input.hdf5_file.empty()) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(d.input.hdf5_file, ec)) {
          r.error(h5["file"], "input.hdf5.file", fmt::format("file not found: {}", d.input.hdf5_file.string()));
        } else {
          // The grid's rank comes from the data, so the datasets are checked here.
          try {
            h5::Handle file = h5::open_file_readonly(d.input.hdf5_file);
            std::vector<std::int64_t> first;
            for (const auto& ds : d.input.hdf5_datasets) {
              if (!h5::exists(file, ds)) {
                r.error(h5, "input.hdf5", fmt::format("{} has no dataset '{}'", d.input.hdf5_file.string(), ds));
                continue;
              }
              if (!h5::is_dataset(file, ds)) {
                r.error(h5, "input.hdf5", fmt::format("'{}' in {} is a group, not a dataset", ds, d.input.hdf5_file.string()));
                continue;
              }
              h5::Handle set = h5::open_dataset(file, ds);
              const auto shape = h5::dataset_shape(set);
              const std::string type = h5::dataset_type_name(set);
              if (shape.empty() || shape.size() > 3 || (type.rfind("float", 0) != 0 && type.find("int") == std::string::npos))
                r.error(h5, "input.hdf5", fmt::format("dataset '{}' must be a 1D, 2D or 3D numeric array (it is {} with {} axes)",
                                                      ds, type, shape.size()));
              else if (first.empty())
                first = shape;
              else if (shape != first)
                r.error(h5, "input.hdf5", fmt::format("dataset '{}' has a different shape from '{}'", ds, d.input.hdf5_datasets[0]));
            }
            if (!first.empty()) {
              d.input.rank = static_cast<int>(first.size());
              d.input.hdf5_shape = first;
            }
          } catch (const RunError& e) {
            r.error(h5["file"], "input.hdf5.file", e.what());
          }
        }
      }
      std::set<std::string> names;
      for (const auto& ds : d.input.hdf5_datasets)
        if (!names.insert(channel_name_of(ds)).second)
          r.error(h5, "input.hdf5", fmt::format("two datasets would both be channel '{}'", channel_name_of(ds)));
    }
    if (auto v = r.number(in, "scale", "input", "a number > 0")) {
      if (!(*v > 0) || !std::isfinite(*v)) r.error(in["scale"], "input.scale", "must be a finite number > 0");
      d.input.scale = *v;
    }
    const std::size_t rank = static_cast<std::size_t>(d.input.rank);
    d.input.spacing.assign(rank, 1.0);
    d.input.origin.assign(rank, 0.0);
    if (auto v = r.numbers(in, "spacing", "input", true, "a list of positive numbers, one per axis")) {
      if (v->size() == 1) v->assign(rank, (*v)[0]);
      if (v->size() != rank) r.error(in["spacing"], "input.spacing", fmt::format("expected {} entries (one per axis, slowest first)", rank));
      else if (std::any_of(v->begin(), v->end(), [](double x) { return !(x > 0) || !std::isfinite(x); }))
        r.error(in["spacing"], "input.spacing", "every spacing must be a finite number > 0");
      else d.input.spacing = *v;
    }
    if (auto v = r.numbers(in, "origin", "input", false, "a list of numbers, one per axis")) {
      if (v->size() != rank) r.error(in["origin"], "input.origin", fmt::format("expected {} entries (one per axis, slowest first)", rank));
      else d.input.origin = *v;
    }
  }

  // ---- kernel
  const int rank = d.input.rank;
  const YAML::Node k = r.block(root, "kernel", "");
  Normalization norm = Normalization::softmax;
  double temperature = 1.0;
  bool kernel_ok = true;
  if (k.IsDefined()) r.check_keys(k, "kernel", kernel_keys);
  const YAML::Node kn = k.IsDefined() ? k : YAML::Node(YAML::NodeType::Map);
  if (auto m = r.text(kn, "normalize", "kernel")) {
    if (*m == "softmax") norm = Normalization::softmax;
    else if (*m == "sum") norm = Normalization::sum;
    else if (*m == "none") norm = Normalization::none;
    else {
      r.error(kn["normalize"], "kernel.normalize", fmt::format("expected softmax, sum or none, got '{}'", *m));
      kernel_ok = false;
    }
  }
  if (auto t = r.number(kn, "temperature", "kernel", "a number > 0")) {
    if (!(*t > 0) || !std::isfinite(*t)) {
      r.error(kn["temperature"], "kernel.temperature", fmt::format("must be a finite number > 0, got '{}'", kn["temperature"].Scalar()));
      kernel_ok = false;
    }
    temperature = *t;
  }
  const bool has_values = kn["values"].IsDefined();
  const bool has_preset = kn["preset"].IsDefined();
  if (has_values && has_preset) {
    r.error(kn, "kernel", "give either preset or values, not both");
    kernel_ok = false;
  }
  std::vector<int> size;
  bool size_ok = true;
  if (auto s = r.numbers(kn, "size", "kernel", true, "an odd whole number, or one per axis")) {
    for (double v : *s) {
      if (v != std::floor(v) || v < 1 || int(v) % 2 == 0) {
        r.error(kn["size"], "kernel.size", fmt::format("kernel sizes must be odd whole numbers >= 1, got {}", v));
        kernel_ok = size_ok = false;
      }
      size.push_back(static_cast<int>(v));
    }
    if (size.size() == 1) size.assign(static_cast<std::size_t>(rank), size[0]);
    if (kernel_ok && static_cast<int>(size.size()) != rank) {
      r.error(kn["size"], "kernel.size", fmt::format("expected one size or {} (one per axis of the {}D grid)", rank, rank));
      kernel_ok = size_ok = false;
    }
  } else {
    size.assign(static_cast<std::size_t>(rank), 3);
  }
  if (has_values) {
    std::vector<int> shape;
    std::vector<double> values;
    if (flatten_values(r, kn["values"], "kernel.values", 0, shape, values)) {
      bool shape_ok = true;
      for (int e : shape)
        if (e % 2 == 0 || e < 1) {
          r.error(kn["values"], "kernel.values", fmt::format("every axis of the kernel needs an odd length, got {}", e));
          shape_ok = false;
          break;
        }
      if (shape_ok && static_cast<int>(shape.size()) > rank) {
        r.error(kn["values"], "kernel.values", fmt::format("a {}D kernel cannot act on a {}D grid", shape.size(), rank));
        shape_ok = false;
      }
      if (shape_ok && kn["size"].IsDefined() && kernel_ok) {
        std::vector<int> padded(static_cast<std::size_t>(rank) - shape.size(), 1);
        padded.insert(padded.end(), shape.begin(), shape.end());
        if (padded != size) r.error(kn["size"], "kernel.size", "does not match the shape of kernel.values (leave size out)");
      }
      if (shape_ok) {
        try {
          d.kernel = make_explicit(shape, values);
        } catch (const std::invalid_argument& e) {
          r.error(kn["values"], "kernel.values", e.what());
          kernel_ok = false;
        }
      } else {
        kernel_ok = false;
      }
    } else {
      kernel_ok = false;
    }
  } else if (size_ok) {
    const std::string preset = r.text(kn, "preset", "kernel").value_or("gaussian");
    double sigma = 1.0;
    if (auto s = r.number(kn, "sigma", "kernel", "a number > 0")) sigma = *s;
    // Tolerated so that `--set kernel.preset=box` works on a gaussian config; said, not hidden.
    if (kn["sigma"].IsDefined() && preset != "gaussian")
      d.notes.push_back(fmt::format("{}: ignored, sigma applies to the gaussian preset only, not '{}'",
                                    r.where(kn["sigma"], "kernel.sigma").describe(), preset));
    try {
      d.kernel = make_preset(preset, rank, size, sigma);
    } catch (const std::invalid_argument& e) {
      const bool about_sigma = std::string(e.what()).find("sigma") != std::string::npos;
      const bool about_name = std::string(e.what()).find("unknown kernel preset") != std::string::npos ||
                              std::string(e.what()).find("dimensional") != std::string::npos;
      std::string message = e.what();
      if (about_name) {
        std::vector<std::string> names;
        for (const auto& p : presets()) names.emplace_back(p.name);
        const std::string hint = closest_match(preset, names);
        if (!hint.empty() && hint != preset) message += fmt::format("; did you mean '{}'?", hint);
      }
      const char* key = about_sigma ? "sigma" : (about_name || !kn["size"].IsDefined() ? "preset" : "size");
      r.error(kn[key].IsDefined() ? kn[key] : kn, std::string("kernel.") + key, message);
      kernel_ok = false;
    }
  }
  if (kernel_ok && !d.kernel.values.empty()) {
    try {
      d.propagator = embed_in_rank(normalize_kernel(d.kernel, norm, temperature), rank);
      d.kernel.rank = rank;
    } catch (const std::invalid_argument& e) {
      r.error(kn["normalize"].IsDefined() ? kn["normalize"] : kn, "kernel.normalize", e.what());
    }
  }

  // ---- propagation
  const YAML::Node p = r.block(root, "propagation", "");
  if (p.IsDefined()) {
    r.check_keys(p, "propagation", propagation_keys);
    if (auto m = r.text(p, "mode", "propagation")) {
      if (*m == "deterministic") d.mode = Mode::deterministic;
      else if (*m == "stochastic") d.mode = Mode::stochastic;
      else if (*m == "collapse") d.mode = Mode::collapse;
      else if (*m == "spectral") d.mode = Mode::spectral;
      else
        r.error(p["mode"], "propagation.mode",
                fmt::format("expected deterministic, stochastic, collapse or spectral, got '{}'", *m));
    }
    if (auto v = r.integer(p, "seed", "propagation", 0, "a whole number >= 0")) d.seed = static_cast<std::uint64_t>(*v);
    if (auto v = r.number(p, "particles_per_unit", "propagation", "a number > 0")) {
      if (!(*v > 0) || !std::isfinite(*v) || *v > 1e15)
        r.error(p["particles_per_unit"], "propagation.particles_per_unit", "must be a number > 0 (and at most 1e15)");
      d.particles_per_unit = *v;
    }
    if (auto v = r.integer(p, "replicates", "propagation", 1, "a whole number >= 1")) d.replicates = *v;
    if (is_stochastic(d.mode) && kernel_ok && !d.propagator.weights.empty() && !d.propagator.is_probability())
      r.error(kn["normalize"].IsDefined() ? kn["normalize"] : p["mode"], "kernel.normalize",
              fmt::format("mode '{}' moves particles with the propagator's probabilities, so it needs normalize: "
                          "softmax or sum (normalize: none is a raw filter)",
                          mode_name(d.mode)));
    if (!is_stochastic(d.mode)) {
      for (const char* k : {"seed", "particles_per_unit", "replicates"})
        if (p[k].IsDefined())
          d.notes.push_back(fmt::format("{}: ignored, it applies to the stochastic and collapse modes only",
                                        r.where(p[k], std::string("propagation.") + k).describe()));
    }
    if (auto v = r.integer(p, "steps", "propagation", 0, "a whole number >= 0")) d.steps = *v;
    if (auto v = r.number(p, "dt", "propagation", "a number > 0")) {
      if (!(*v > 0) || !std::isfinite(*v)) r.error(p["dt"], "propagation.dt", "must be a finite number > 0");
      d.dt = *v;
    }
    if (auto b = r.text(p, "boundary", "propagation")) {
      if (auto parsed = parse_boundary(*b)) d.boundary = *parsed;
      else r.error(p["boundary"], "propagation.boundary", fmt::format("unknown boundary '{}' (choose {})", *b, boundary_choices()));
    }
    if (auto s = r.text(p, "precision", "propagation")) {
      if (*s == "float32") d.precision = Precision::float32;
      else if (*s == "float64") d.precision = Precision::float64;
      else r.error(p["precision"], "propagation.precision", fmt::format("expected float32 or float64, got '{}'", *s));
    }
    if (d.mode == Mode::spectral && d.boundary != Boundary::periodic)
      r.error(p["boundary"].IsDefined() ? p["boundary"] : p["mode"], "propagation.boundary",
              fmt::format("mode 'spectral' uses the convolution theorem, which is exact only with periodic boundaries "
                          "(got {}); use boundary: periodic, or mode: deterministic",
                          boundary_name(d.boundary)));
  }

  // ---- output
  d.output_dir = std::filesystem::path("output") / d.name;
  const YAML::Node o = r.block(root, "output", "");
  if (o.IsDefined()) {
    r.check_keys(o, "output", output_keys);
    if (auto dir = r.text(o, "dir", "output")) {
      if (dir->empty()) r.error(o["dir"], "output.dir", "must not be empty");
      d.output_dir = *dir;
    }
    if (auto v = r.integer(o, "every", "output", 1, "a whole number >= 1")) d.output_every = *v;
    if (auto v = r.boolean(o, "png", "output")) d.output_png = *v;
  }

  // ---- catalyst (in situ)
  const YAML::Node cat = r.block(root, "catalyst", "");
  if (cat.IsDefined()) {
    r.check_keys(cat, "catalyst", catalyst_keys);
    if (catalyst_module_path().empty())
      r.error(cat, "catalyst", catalyst_missing_reason() + ", or remove the catalyst block");
    const YAML::Node scripts = cat["scripts"];
    if (!scripts.IsDefined() || !scripts.IsSequence() || scripts.size() == 0) {
      r.error(scripts.IsDefined() ? scripts : cat, "catalyst.scripts",
              "expected a list of Catalyst Python scripts, e.g. [scripts/catalyst/png.py]");
    } else {
      for (std::size_t i = 0; i < scripts.size(); ++i) {
        const std::string key = fmt::format("catalyst.scripts[{}]", i);
        if (!scripts[i].IsScalar()) {
          r.error(scripts[i], key, "expected the path of a Python script");
          continue;
        }
        const std::filesystem::path script = resolve(scripts[i].Scalar(), "catalyst.scripts");
        std::error_code ec;
        if (std::filesystem::is_directory(script, ec))
          r.error(scripts[i], key, fmt::format("{} is a folder; give the Python script (.py) itself", script.string()));
        else if (!std::filesystem::is_regular_file(script, ec))
          r.error(scripts[i], key, fmt::format("script not found: {}", script.string()));
        else if (script.extension() != ".py") r.error(scripts[i], key, "a Catalyst script is a Python file (.py)");
        d.catalyst_scripts.push_back(script);
      }
    }
    if (auto v = r.integer(cat, "every", "catalyst", 1, "a whole number >= 1")) d.catalyst_every = *v;
  }

  if (!r.issues().empty()) throw ConfigError(r.issues());
  d.effective_yaml = effective_yaml(d);
  return d;
}

YAML::Node parse_yaml(const std::string& text, const std::filesystem::path& origin) {
  try {
    YAML::Node root = YAML::Load(text);
    if (!root.IsDefined() || root.IsNull()) {
      SourceLocation loc;
      loc.file = origin.string();
      throw ConfigError({{loc, "the configuration is empty"}});
    }
    return root;
  } catch (const YAML::ParserException& e) {
    SourceLocation loc;
    loc.file = origin.string();
    loc.line = e.mark.line + 1;
    loc.column = e.mark.column + 1;
    // The parser's words, plus the commonest cause it does not name.
    std::string hint;
    std::istringstream lines(text);
    std::string line;
    for (int i = 0; i <= e.mark.line && std::getline(lines, line); ++i) {
      if (line.find('\t') != std::string::npos) hint = " (a tab character is used for indentation: YAML allows only spaces)";
    }
    throw ConfigError({{loc, fmt::format("malformed YAML: {}{}", e.msg, hint)}});
  }
}

}  // namespace

RunDescription parse_run_description(const std::string& yaml_text, const std::filesystem::path& origin,
                                     const std::vector<std::string>& overrides) {
  YAML::Node root = parse_yaml(yaml_text, origin);
  std::set<std::string> overridden;
  std::vector<ConfigIssue> issues;
  if (root.IsMap())
    for (const auto& o : overrides) apply_override(root, o, overridden, issues);
  if (!issues.empty()) throw ConfigError(issues);
  return describe(root, origin, overridden);
}

RunDescription load_run_description(const std::filesystem::path& config_file, const std::vector<std::string>& overrides) {
  std::error_code ec;
  if (std::filesystem::is_directory(config_file, ec))
    throw InputError(fmt::format("{}: is a folder; give a YAML configuration file (for example configs/default.yaml)",
                                 config_file.string()));
  if (!std::filesystem::is_regular_file(config_file, ec))
    throw InputError(fmt::format("{}: configuration file not found", config_file.string()));
  std::ifstream in(config_file);
  if (!in) throw InputError(fmt::format("{}: cannot be read", config_file.string()));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_run_description(ss.str(), config_file, overrides);
}

}  // namespace propagon
