#pragma once
/// @file grid.hpp
/// The shape of a field. Arrays are C order, slowest axis first: (nx), (ny, nx) or (nz, ny, nx).
/// Internally every grid is three-dimensional; the axes a lower-rank grid lacks have one cell.
#include <array>
#include <cstdint>
#include <vector>

namespace propagon {

/// Axis positions inside the three-entry arrays (slowest first).
enum Axis : int { axis_z = 0, axis_y = 1, axis_x = 2 };

struct Grid {
  int rank = 2;                                   ///< 1, 2 or 3
  std::array<std::int64_t, 3> extent{1, 1, 1};    ///< nz, ny, nx
  std::array<double, 3> spacing{1.0, 1.0, 1.0};   ///< dz, dy, dx
  std::array<double, 3> origin{0.0, 0.0, 0.0};    ///< z0, y0, x0

  std::int64_t nz() const { return extent[axis_z]; }
  std::int64_t ny() const { return extent[axis_y]; }
  std::int64_t nx() const { return extent[axis_x]; }
  std::int64_t cells() const { return extent[0] * extent[1] * extent[2]; }
  std::int64_t rows() const { return extent[0] * extent[1]; }
  /// The user-facing shape, `rank` entries, slowest first.
  std::vector<std::int64_t> shape() const {
    return std::vector<std::int64_t>(extent.begin() + (3 - rank), extent.end());
  }
  /// Builds a grid from a user-facing shape of 1 to 3 entries.
  static Grid from_shape(const std::vector<std::int64_t>& shape) {
    Grid g;
    g.rank = static_cast<int>(shape.size());
    for (int i = 0; i < g.rank; ++i) g.extent[3 - g.rank + i] = shape[i];
    return g;
  }
};

}  // namespace propagon
