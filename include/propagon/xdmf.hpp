#pragma once
/// @file xdmf.hpp
/// The XDMF 2 index (<name>.xmf) that lets ParaView open a run's snapshots as one time series.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "propagon/config.hpp"
#include "propagon/grid.hpp"

namespace propagon {

/// A temporal collection of snapshots. Every add() rewrites the whole file through a temporary
/// name and a rename, so a reader never sees a half-written index.
/// One array shown in ParaView: its name there and its HDF5 path inside each snapshot.
struct XdmfAttribute {
  std::string name;
  std::string hdf5_path;
  const char* number_type = "Float";  ///< "Float" or "UInt"
  int bytes = 4;
};

/// The arrays of a run's snapshots (fields, and for stochastic runs counts and ensemble statistics).
std::vector<XdmfAttribute> snapshot_attributes(const std::vector<std::string>& channels, Precision precision,
                                               bool counts, bool ensemble);

class XdmfIndex {
 public:
  XdmfIndex(std::filesystem::path xmf_file, Grid grid, std::vector<XdmfAttribute> attributes);
  /// `snapshot` is the HDF5 file, given relative to the .xmf's folder. `write` false only records it
  /// (for rebuilding an index before a restart).
  void add(std::int64_t step, double time, const std::string& snapshot, bool write = true);
  /// The XML text for the snapshots added so far.
  std::string xml() const;
  const std::filesystem::path& path() const { return file_; }

 private:
  struct Entry {
    std::int64_t step;
    double time;
    std::string snapshot;
  };
  std::filesystem::path file_;
  Grid grid_;
  std::vector<XdmfAttribute> attributes_;
  std::vector<Entry> entries_;
};

}  // namespace propagon
