#pragma once
/// @file host_buffer.hpp
/// Large host arrays for the streaming passes: memory backed by transparent huge pages, and a
/// zero-initialised buffer aligned for SIMD and huge pages.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <type_traits>
#if defined(__unix__) || defined(__APPLE__)
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

/// `size` values of a trivial type on the host, starting as zero bytes: 64-byte aligned (what SIMD
/// code, FFTW's included, wants); large ones are mapped straight from the kernel, 2 MiB aligned and
/// on huge pages, and cost nothing until touched (the kernel zeroes a page when it is first used,
/// so a large buffer is never zero-filled twice, and pages that are never touched are never made).
template <class T>
class HostBuffer {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);
  static constexpr std::size_t huge = std::size_t(2) << 20;

 public:
  HostBuffer() = default;
  explicit HostBuffer(std::size_t size) : size_(size) {
    if (size == 0) return;
    const std::size_t bytes = size * sizeof(T);
#if defined(__unix__) || defined(__APPLE__)
    if (bytes >= 2 * huge) {
      // Map one huge page more than needed and give back the ends, so the buffer starts on a
      // huge-page boundary.
      const std::size_t mapped = (bytes + huge - 1) / huge * huge + huge;
      void* m = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (m == MAP_FAILED) throw std::bad_alloc();
      const auto begin = reinterpret_cast<std::uintptr_t>(m);
      const std::uintptr_t start = (begin + huge - 1) / huge * huge, end = start + mapped - huge;
      if (start > begin) munmap(m, start - begin);
      if (begin + mapped > end) munmap(reinterpret_cast<void*>(end), begin + mapped - end);
      data_.reset(reinterpret_cast<T*>(start));
      data_.get_deleter().mapped = mapped - huge;
      advise_huge_pages(data_.get(), bytes);
      return;
    }
#endif
    void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) throw std::bad_alloc();
    std::memset(p, 0, bytes);
    data_.reset(static_cast<T*>(p));
  }
  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  T& operator[](std::size_t i) { return data_.get()[i]; }
  const T& operator[](std::size_t i) const { return data_.get()[i]; }
  std::size_t size() const { return size_; }

 private:
  struct Release {
    std::size_t mapped = 0;  ///< bytes mapped with mmap, or 0 for aligned_alloc
    void operator()(T* p) const {
#if defined(__unix__) || defined(__APPLE__)
      if (mapped) {
        munmap(p, mapped);
        return;
      }
#endif
      std::free(p);
    }
  };
  std::unique_ptr<T, Release> data_;
  std::size_t size_ = 0;
};

}  // namespace propagon
