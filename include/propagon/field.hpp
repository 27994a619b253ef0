#pragma once
/// @file field.hpp
/// A concentration field: one channel on a grid, in the memory space of the default execution
/// space (device memory on a GPU build), flat C order (z slowest, x fastest).
#include <Kokkos_Core.hpp>

#include <cstdint>
#if defined(__linux__)
#include <sys/mman.h>
#endif

#include <string>
#include <vector>

#include "propagon/grid.hpp"

namespace propagon {

template <class T>
using FieldView = Kokkos::View<T*>;

/// Asks the kernel to back a large host array with transparent huge pages (Linux, before the
/// array is first written). A step streams whole fields through memory; with 4 KiB pages the page
/// walks cost it 15-30% on this project's machines (numpy's own large arrays get huge pages, so
/// its copy bandwidth, the yardstick of scripts/bench.py, already has them). No effect elsewhere.
template <class View>
void advise_huge_pages(const View& v) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  using Space = typename View::memory_space;
  if constexpr (Kokkos::SpaceAccessibility<Kokkos::HostSpace, Space>::accessible) {
    constexpr std::uintptr_t page = 4096;
    const auto begin = reinterpret_cast<std::uintptr_t>(v.data());
    const std::uintptr_t end = begin + v.span() * sizeof(typename View::value_type);
    const std::uintptr_t first = (begin + page - 1) / page * page, last = end / page * page;
    if (last > first + (2u << 20)) madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
  }
#else
  (void)v;
#endif
}

template <class T>
struct Field {
  std::string channel;  ///< "gray", "r", "g", "b", a dataset name or "c"
  FieldView<T> values;
};

/// Copies host data (C order, any arithmetic type) into a new field.
template <class T>
Field<T> make_field(const std::string& channel, const std::vector<double>& host_values) {
  Field<T> f{channel, FieldView<T>(Kokkos::view_alloc(std::string("field_") + channel, Kokkos::WithoutInitializing),
                                   host_values.size())};
  advise_huge_pages(f.values);
  auto mirror = Kokkos::create_mirror_view(f.values);
  for (std::size_t i = 0; i < host_values.size(); ++i) mirror(i) = static_cast<T>(host_values[i]);
  Kokkos::deep_copy(f.values, mirror);
  return f;
}

/// The field's values on the host, as float64 (for tests and tools; not a hot path).
template <class T>
std::vector<double> to_host_vector(const FieldView<T>& v) {
  auto mirror = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
  return std::vector<double>(mirror.data(), mirror.data() + mirror.extent(0));
}

}  // namespace propagon
