#pragma once
/// @file input.hpp
/// The initial state of a run: the grid and one concentration plane per channel, from an image,
/// a synthetic pattern or HDF5 datasets. concentration = input.scale x input value.
#include <string>
#include <vector>

#include "propagon/config.hpp"
#include "propagon/grid.hpp"

namespace propagon {

struct InitialState {
  Grid grid;
  std::vector<std::string> channels;
  std::vector<std::vector<double>> values;  ///< one per channel, grid.cells() entries, C order
  std::string description;                  ///< one line for the start-up summary
};

/// Loads or generates the initial fields. Throws InputError naming the file and the problem.
InitialState load_initial_state(const RunDescription& run);

}  // namespace propagon
