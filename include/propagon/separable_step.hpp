#pragma once
/// @file separable_step.hpp
/// The deterministic step for separable propagators on the host, written for bandwidth.
///
/// A propagator whose 2D weights are an outer product P[a][b] = py[a] * px[b] (the softmax of
/// additively separable logits: box, Gaussian) is applied as a vertical then a horizontal 1D pass
/// per output row, both in flux form (exact mass balance, as in DeterministicStep), with the same
/// boundary meaning (the per-axis gather tables of build_axis_gather()). Results equal
/// DeterministicStep's within rounding.
///
/// Three things make it fast on a CPU:
///  - 2 * (k - 1) multiply-adds per cell instead of k^2 - 1;
///  - the finished rows of a large field (8 MiB or more) go to memory with non-temporal stores,
///    straight from the registers, so a step moves 8 bytes per float32 cell (one read, one write)
///    instead of 12 (the write would first read the line); a smaller field stays in cache;
///  - temporal blocking: several steps are fused into one sweep. Each intermediate step lives only
///    in a ring of k rows that stays in the L2 cache, so n fused steps cost one read and one write
///    of the field. Rows are cut into blocks (one per thread and a few more); a block recomputes a
///    halo of r rows per fused step at its edges.
/// The statistics of every step (history.csv) are taken from the rows while they are in cache.
/// Every row is computed by the same arithmetic whatever the block, thread count or number of
/// fused steps, so results are bit-identical between those choices (and across restarts).
#include <array>
#include <cstdint>
#include <vector>

#include "propagon/boundary.hpp"
#include "propagon/field.hpp"
#include "propagon/host_buffer.hpp"
#include "propagon/field_stats.hpp"
#include "propagon/grid.hpp"
#include "propagon/kernel.hpp"
#include "propagon/stencil.hpp"

namespace propagon {

template <class T>
class SeparableStep {
 public:
  /// True when this grid, propagator and build can take this path: a 1D or 2D grid, a separable
  /// probability propagator, and fields in host memory (a GPU build uses DeterministicStep).
  static bool usable(const Grid& grid, const Propagator& propagator);

  /// `blocks` > 0 fixes the number of row blocks (tests); 0 picks a few per host thread.
  /// Fields under 8 MiB stay in cache, where fusing steps does not pay and is not done, unless
  /// `fuse_small_fields` (tests).
  SeparableStep(const Grid& grid, const Propagator& propagator, Boundary boundary, int blocks = 0,
                bool fuse_small_fields = false);

  /// How many steps one apply() may fuse: 1 for absorbing walls (their absorbed mass is counted
  /// per step) and for fields that fit in cache, otherwise as many as keep the rings in a 512 KiB
  /// L2 cache (at most 8).
  int max_fused_steps() const { return max_fused_; }

  /// out = P^steps (*) in, 1 <= steps <= max_fused_steps(); `in` is left unchanged. With `stats`,
  /// it receives the statistics after each of the steps.
  void apply(const FieldView<T>& in, const FieldView<T>& out, int steps, std::vector<FieldStats>* stats = nullptr) const;

 private:
  struct Axis : AxisGather {  ///< the axis's gather table and its 1D weights
    int radius = 0;
    std::vector<T> weights;
  };
  struct Block {
    std::int64_t begin = 0, end = 0;  ///< output rows it owns
    // 64-byte aligned, so that the vector loads and stores of the passes do not straddle cache lines.
    mutable HostBuffer<T> ring;      ///< max_fused levels x taps rows x nx (x-filtered rows)
    mutable HostBuffer<T> vertical;  ///< one row after the vertical pass
  };

  Grid grid_;
  Boundary boundary_;
  Axis y_, x_;
  std::vector<std::int64_t> x_edges_;  ///< columns outside the x interior band
  int max_fused_ = 1;
  bool large_field_ = false;  ///< 8 MiB or more: does not stay in cache (streamed, and fused)
  std::vector<Block> blocks_;
  mutable std::vector<double> partials_;  ///< steps x rows x row_terms
};

extern template class SeparableStep<float>;
extern template class SeparableStep<double>;

}  // namespace propagon
