#pragma once
/// @file compat.hpp
/// The few places where Kokkos 3.4 and 4.x differ, gated on KOKKOS_VERSION in one spot.
#include <Kokkos_Core.hpp>

namespace propagon::compat {

/// Kokkos::fence(label) exists only from 4.0; 3.4 has the unlabelled form.
inline void fence([[maybe_unused]] const char* label) {
#if KOKKOS_VERSION >= 40000
  Kokkos::fence(label);
#else
  Kokkos::fence();
#endif
}

/// The thread-count flag differs between major versions.
inline const char* threads_flag() {
#if KOKKOS_VERSION >= 40000
  return "--kokkos-num-threads";
#else
  return "--kokkos-threads";
#endif
}

}  // namespace propagon::compat

/// Device-callable math: Kokkos::Experimental:: in 3.x, Kokkos:: from 4.0 (the old names are gone
/// in later 4.x releases).
namespace propagon::kmath {
#if KOKKOS_VERSION >= 40000
using Kokkos::exp;
using Kokkos::fabs;
using Kokkos::floor;
using Kokkos::log;
using Kokkos::log1p;
using Kokkos::sqrt;
#else
using Kokkos::Experimental::exp;
using Kokkos::Experimental::fabs;
using Kokkos::Experimental::floor;
using Kokkos::Experimental::log;
using Kokkos::Experimental::log1p;
using Kokkos::Experimental::sqrt;
#endif
}  // namespace propagon::kmath
