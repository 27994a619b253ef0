#pragma once
/// @file image.hpp
/// Reading photographs (PNG 8/16-bit gray, gray+alpha, RGB, RGBA, palette; JPEG) as intensity
/// planes in [0, 1]. Row 0 is the top row of the picture, x runs along a row.
#include <filesystem>
#include <string>
#include <vector>

namespace propagon {

struct ImageData {
  std::int64_t width = 0, height = 0;
  std::vector<std::string> channels;        ///< {"gray"} or {"r", "g", "b"}
  std::vector<std::vector<double>> planes;  ///< one per channel, height*width, C order, in [0, 1]
  int bits_per_sample = 8;                  ///< 8 or 16 (scaled by 255 or 65535, never clipped)
  bool alpha_dropped = false;               ///< alpha is not a concentration
  std::string format;                       ///< "PNG" or "JPEG"
};

/// Loads an image. Throws InputError naming the file and what is wrong with it (missing, not an
/// image, truncated, unsupported).
ImageData load_image(const std::filesystem::path& path);

/// Writes an 8-bit PNG (1 or 3 channels, interleaved, row 0 on top). Throws RunError on failure.
void write_png(const std::filesystem::path& path, int width, int height, int channels,
               const std::vector<unsigned char>& pixels);

}  // namespace propagon
