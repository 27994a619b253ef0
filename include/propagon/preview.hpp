#pragma once
/// @file preview.hpp
/// PNG previews of snapshots: RGB runs as a colour picture, others in gray. Values in [lo, hi] map
/// to 0..255 (clipped for display only; the HDF5 snapshots keep the exact values). 3D grids show
/// their middle z slice; 1D grids have no preview.
#include <filesystem>
#include <string>
#include <vector>

#include "propagon/grid.hpp"

namespace propagon {

/// True if the grid can be previewed (2D or 3D).
inline bool previewable(const Grid& g) { return g.rank >= 2; }

template <class T>
void write_preview(const std::filesystem::path& path, const Grid& grid, const std::vector<std::string>& channels,
                   const std::vector<const T*>& values, double lo, double hi);

}  // namespace propagon
