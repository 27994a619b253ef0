#include "propagon/preview.hpp"

#include <algorithm>
#include <cmath>

#include "propagon/image.hpp"

namespace propagon {

template <class T>
void write_preview(const std::filesystem::path& path, const Grid& grid, const std::vector<std::string>& channels,
                   const std::vector<const T*>& values, double lo, double hi) {
  const bool rgb = channels == std::vector<std::string>{"r", "g", "b"};
  const int comps = rgb ? 3 : 1;
  const std::int64_t ny = grid.ny(), nx = grid.nx();
  const std::int64_t slice = (grid.nz() / 2) * ny * nx;
  const double range = hi > lo ? hi - lo : 1.0;
  std::vector<unsigned char> px(static_cast<std::size_t>(ny * nx * comps));
  for (std::int64_t i = 0; i < ny * nx; ++i)
    for (int c = 0; c < comps; ++c) {
      const double v = (double(values[static_cast<std::size_t>(c)][slice + i]) - lo) / range;
      const double clipped = std::isfinite(v) ? std::clamp(v, 0.0, 1.0) : 0.0;
      px[static_cast<std::size_t>(i * comps + c)] = static_cast<unsigned char>(std::lround(clipped * 255.0));
    }
  write_png(path, static_cast<int>(nx), static_cast<int>(ny), comps, px);
}

template void write_preview<float>(const std::filesystem::path&, const Grid&, const std::vector<std::string>&,
                                   const std::vector<const float*>&, double, double);
template void write_preview<double>(const std::filesystem::path&, const Grid&, const std::vector<std::string>&,
                                    const std::vector<const double*>&, double, double);

}  // namespace propagon
