#pragma once
/// @file rng.hpp
/// Counter-based random numbers (Random123 Philox4x64-10). A stream is keyed by (seed, replicate)
/// and counted by (step, cell, block): the numbers a cell draws in a step depend on nothing else,
/// so results are the same whatever the thread count, backend, traversal order or restarts.
#include <Kokkos_Macros.hpp>
#include <Random123/philox.h>

#include <cstdint>

namespace propagon {

class CellStream {
 public:
  using Philox = r123::Philox4x64;

  KOKKOS_INLINE_FUNCTION CellStream(std::uint64_t seed, std::uint64_t replicate, std::uint64_t step, std::uint64_t cell)
      : key_{{seed, replicate}}, counter_{{step, cell, 0, 0}} {}

  /// 64 random bits (one draw, like uniform()).
  KOKKOS_INLINE_FUNCTION std::uint64_t bits() {
    if (used_ == 4) refill();
    return block_.v[used_++];
  }

  /// A uniform double in the open interval (0, 1), 53 random bits.
  KOKKOS_INLINE_FUNCTION double uniform() {
    if (used_ == 4) refill();
    const std::uint64_t bits = block_.v[used_++];
    // bits >> 11 < 2^53: converted as a signed integer (one instruction on x86, the same value).
    return (double(static_cast<std::int64_t>(bits >> 11)) + 0.5) * (1.0 / 9007199254740992.0);
  }

 private:
  KOKKOS_INLINE_FUNCTION void refill() {
    Philox philox;
    block_ = philox(counter_, key_);
    counter_.v[2] += 1;  // the draw-block index
    used_ = 0;
  }

  Philox::key_type key_;
  Philox::ctr_type counter_;
  Philox::ctr_type block_{{0, 0, 0, 0}};
  int used_ = 4;
};

}  // namespace propagon
