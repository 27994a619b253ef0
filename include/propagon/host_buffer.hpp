#pragma once
/// @file host_buffer.hpp
/// Large host arrays for the streaming passes: memory backed by transparent huge pages, and a
/// buffer that is aligned for SIMD and huge pages and left uninitialised.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <type_traits>
#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace propagon {

/// Asks the kernel to back a large host array with transparent huge pages (Linux, before the
/// array is first written). A step streams whole fields through memory; with 4 KiB pages the page
/// walks cost it 15-30% on this project's machines (numpy's own large arrays get huge pages, so
/// its copy bandwidth, the yardstick of scripts/bench.py, already has them), and the first touch
/// of a fresh array takes one page fault per 4 KiB instead of one per 2 MiB. No effect elsewhere.
inline void advise_huge_pages(const void* data, std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr std::uintptr_t page = 4096;
  const auto begin = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t first = (begin + page - 1) / page * page, last = (begin + bytes) / page * page;
  if (last > first + (2u << 20)) madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
#else
  (void)data, (void)bytes;
#endif
}

/// `size` uninitialised values of a trivial type on the host: 64-byte aligned (what SIMD code,
/// FFTW's included, wants), 2 MiB aligned and on huge pages when large. Every element must be
/// written before it is read; nothing is spent zero-filling memory that is overwritten anyway.
template <class T>
class HostBuffer {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

 public:
  HostBuffer() = default;
  explicit HostBuffer(std::size_t size) : size_(size) {
    if (size == 0) return;
    constexpr std::size_t huge = std::size_t(2) << 20;
    const std::size_t bytes = size * sizeof(T), align = bytes >= 2 * huge ? huge : 64;
    void* p = std::aligned_alloc(align, (bytes + align - 1) / align * align);
    if (!p) throw std::bad_alloc();
    data_.reset(static_cast<T*>(p));
    advise_huge_pages(p, bytes);
  }
  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  T& operator[](std::size_t i) { return data_.get()[i]; }
  const T& operator[](std::size_t i) const { return data_.get()[i]; }
  std::size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  std::unique_ptr<T, Free> data_;
  std::size_t size_ = 0;
};

}  // namespace propagon
