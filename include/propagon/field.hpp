#pragma once
/// @file field.hpp
/// A concentration field: one channel on a grid, in the memory space of the default execution
/// space (device memory on a GPU build), flat C order (z slowest, x fastest).
#include <Kokkos_Core.hpp>

#include <cstdint>

#include <string>
#include <vector>

#include "propagon/grid.hpp"
#include "propagon/host_buffer.hpp"

namespace propagon {

template <class T>
using FieldView = Kokkos::View<T*>;

/// `n` uninitialised values for an array that the steps stream through (a field, its scratch, the
/// particle counts, host copies). In host memory a large one starts on a 2 MiB boundary, with huge
/// pages advised: at the arbitrary offset a plain allocation gets, its first and last 2 MiB stay on
/// 4 KiB pages, and a one-step sweep measured 3-8% slower. It is a subview of an allocation 2 MiB
/// longer, which it keeps alive. Other memory spaces get a plain View.
template <class T, class Space = typename Kokkos::View<T*>::memory_space>
Kokkos::View<T*, Space> streamed_view(const std::string& label, std::size_t n) {
  constexpr std::size_t huge = std::size_t(2) << 20;
  using View = Kokkos::View<T*, Space>;
  if constexpr (Kokkos::SpaceAccessibility<Kokkos::HostSpace, Space>::accessible) {
    if (n * sizeof(T) >= 2 * huge && huge % sizeof(T) == 0) {
      const std::size_t pad = huge / sizeof(T);
      View whole(Kokkos::view_alloc(label, Kokkos::WithoutInitializing), n + pad);
      const auto at = reinterpret_cast<std::uintptr_t>(whole.data());
      const std::size_t skip = ((at + huge - 1) / huge * huge - at) / sizeof(T);
      advise_huge_pages(static_cast<const void*>(whole.data() + skip), n * sizeof(T));
      return Kokkos::subview(whole, std::make_pair(skip, skip + n));
    }
  }
  return View(Kokkos::view_alloc(label, Kokkos::WithoutInitializing), n);
}

template <class T>
struct Field {
  std::string channel;  ///< "gray", "r", "g", "b", a dataset name or "c"
  FieldView<T> values;
};

/// Copies host data (C order, any arithmetic type) into a new field.
template <class T>
Field<T> make_field(const std::string& channel, const std::vector<double>& host_values) {
  Field<T> f{channel, streamed_view<T>("field_" + channel, host_values.size())};
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
