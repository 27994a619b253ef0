#pragma once
/// @file boundary.hpp
/// Where content that would leave the grid goes. This header is the single source of truth for the
/// boundary index map; every mode and tool calls map_index().
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace propagon {

enum class Boundary { periodic, reflect, clamp, absorb };

/// Parses a boundary name, accepting scipy's aliases (wrap, nearest, constant).
std::optional<Boundary> parse_boundary(std::string_view name);
/// The canonical name ("periodic", ...).
const char* boundary_name(Boundary b);
/// Every accepted spelling, for error messages.
const char* boundary_choices();

/// Index that content pushed to `target` lands on, on an axis of `n` cells, or -1 when it leaves
/// the grid (absorb). Folds and wraps repeatedly, so kernels wider than the grid are fine.
///  periodic: t mod n;  reflect: half-sample symmetric, dcba|abcd|dcba (-1 -> 0, -2 -> 1);
///  clamp: nearest edge cell;  absorb: outside -> -1.
inline std::int64_t map_index(std::int64_t target, std::int64_t n, Boundary b) {
  if (target >= 0 && target < n) return target;
  switch (b) {
    case Boundary::periodic: {
      const std::int64_t r = target % n;
      return r < 0 ? r + n : r;
    }
    case Boundary::reflect: {
      const std::int64_t period = 2 * n;
      std::int64_t r = target % period;
      if (r < 0) r += period;
      return r < n ? r : period - 1 - r;
    }
    case Boundary::clamp:
      return target < 0 ? 0 : n - 1;
    case Boundary::absorb:
      return -1;
  }
  return -1;
}

}  // namespace propagon
