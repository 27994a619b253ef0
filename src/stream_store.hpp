#pragma once
// Internal: copies of finished rows to memory with non-temporal (streaming) stores on x86, so a
// write does not first read its cache line (the "read for ownership" that makes a plain store cost
// two memory transfers). Elsewhere it is a plain copy. Call stream_fence() before another thread
// may read what was streamed.
#include <algorithm>
#include <cstdint>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

namespace propagon::detail {

inline void stream_copy(float* dst, const float* src, std::int64_t n) {
#if defined(__SSE2__)
  std::int64_t i = 0;
  for (; i < n && (reinterpret_cast<std::uintptr_t>(dst + i) & 31u) != 0; ++i) dst[i] = src[i];
#if defined(__AVX__)
  for (; i + 8 <= n; i += 8) _mm256_stream_ps(dst + i, _mm256_loadu_ps(src + i));
#else
  for (; i + 4 <= n; i += 4) _mm_stream_ps(dst + i, _mm_loadu_ps(src + i));
#endif
  for (; i < n; ++i) dst[i] = src[i];
#else
  std::copy(src, src + n, dst);
#endif
}

inline void stream_copy(double* dst, const double* src, std::int64_t n) {
#if defined(__SSE2__)
  std::int64_t i = 0;
  for (; i < n && (reinterpret_cast<std::uintptr_t>(dst + i) & 31u) != 0; ++i) dst[i] = src[i];
#if defined(__AVX__)
  for (; i + 4 <= n; i += 4) _mm256_stream_pd(dst + i, _mm256_loadu_pd(src + i));
#else
  for (; i + 2 <= n; i += 2) _mm_stream_pd(dst + i, _mm_loadu_pd(src + i));
#endif
  for (; i < n; ++i) dst[i] = src[i];
#else
  std::copy(src, src + n, dst);
#endif
}

/// Orders the streamed stores before any later store (and the end of a parallel region).
inline void stream_fence() {
#if defined(__SSE2__)
  _mm_sfence();
#endif
}

}  // namespace propagon::detail
