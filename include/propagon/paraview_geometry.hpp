#pragma once
/// @file paraview_geometry.hpp
/// How a grid is placed in ParaView's (x, y, z) space: the one source of truth shared by the XDMF
/// index and the Catalyst adaptor. ParaView's x is the fastest array axis. A 2D grid is drawn like
/// a picture: row 0 at the top, so its y step is negative and its y origin is the last row's
/// coordinate (input.origin is then the lower-left corner as ParaView shows it). 1D and 3D grids
/// are not flipped: a flip would mirror a volume.
#include <array>
#include <cstdint>

#include "propagon/grid.hpp"

namespace propagon {

struct ParaViewGeometry {
  std::array<std::int64_t, 3> dims;  ///< points along ParaView's x, y, z (= nx, ny, nz)
  std::array<double, 3> origin;      ///< x, y, z
  std::array<double, 3> spacing;     ///< x, y, z (y negative for 2D grids)
};

inline ParaViewGeometry paraview_geometry(const Grid& g) {
  const bool picture = g.rank == 2;
  const double dy = g.spacing[axis_y];
  ParaViewGeometry p;
  p.dims = {g.nx(), g.ny(), g.nz()};
  p.origin = {g.origin[axis_x], picture ? g.origin[axis_y] + double(g.ny() - 1) * dy : g.origin[axis_y], g.origin[axis_z]};
  p.spacing = {g.spacing[axis_x], picture ? -dy : dy, g.spacing[axis_z]};
  return p;
}

}  // namespace propagon
