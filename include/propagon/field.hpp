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

/// advise_huge_pages (host_buffer.hpp) for a View's memory, when the host can reach it.
template <class View>
void advise_huge_pages(const View& v) {
  using Space = typename View::memory_space;
  if constexpr (Kokkos::SpaceAccessibility<Kokkos::HostSpace, Space>::accessible)
    advise_huge_pages(static_cast<const void*>(v.data()), v.span() * sizeof(typename View::value_type));
  else
    (void)v;
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
