#include "propagon/image.hpp"

#include <fmt/format.h>
#include <stb_image.h>
#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <fstream>
#include <memory>

#include "propagon/error.hpp"

namespace propagon {

namespace {

std::vector<unsigned char> read_bytes(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw InputError(fmt::format("{}: no such file", path.string()));
  if (std::filesystem::is_directory(path, ec))
    throw InputError(fmt::format("{}: is a directory, expected an image file", path.string()));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot be opened for reading", path.string()));
  // Sized once from the file's length (an iterator copy would grow it by doubling).
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  std::vector<unsigned char> bytes(size > 0 ? static_cast<std::size_t>(size) : 0);
  if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size))
    throw InputError(fmt::format("{}: cannot be read", path.string()));
  return bytes;
}

bool is_png(const std::vector<unsigned char>& b) {
  static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  return b.size() >= 8 && std::equal(sig, sig + 8, b.begin());
}
bool is_jpeg(const std::vector<unsigned char>& b) { return b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF; }

// stb decodes some truncated JPEGs without complaint (it pads the missing scans), so a file without
// its end-of-image marker is refused explicitly: a half-downloaded photo must not pass silently.
bool jpeg_has_end_marker(const std::vector<unsigned char>& b) {
  const std::size_t tail = std::min<std::size_t>(b.size(), 4096);
  for (std::size_t i = b.size() - tail; i + 1 < b.size(); ++i)
    if (b[i] == 0xFF && b[i + 1] == 0xD9) return true;
  return false;
}

struct StbFree {
  void operator()(void* p) const { stbi_image_free(p); }
};

}  // namespace

ImageData load_image(const std::filesystem::path& path) {
  std::vector<unsigned char> bytes = read_bytes(path);
  const std::string name = path.string();
  ImageData img;
  if (is_png(bytes)) {
    img.format = "PNG";
  } else if (is_jpeg(bytes)) {
    img.format = "JPEG";
    if (!jpeg_has_end_marker(bytes))
      throw InputError(fmt::format("{}: truncated JPEG (no end-of-image marker); the file is incomplete", name));
  } else {
    throw InputError(fmt::format("{}: not a PNG or JPEG image (unrecognised file signature)", name));
  }
  const int len = static_cast<int>(bytes.size());
  int w = 0, h = 0, comp = 0;
  if (!stbi_info_from_memory(bytes.data(), len, &w, &h, &comp))
    throw InputError(fmt::format("{}: cannot read the {} header: {}", name, img.format, stbi_failure_reason()));
  const bool sixteen = stbi_is_16_bit_from_memory(bytes.data(), len);
  std::unique_ptr<void, StbFree> data;
  int got = 0;
  if (sixteen)
    data.reset(stbi_load_16_from_memory(bytes.data(), len, &w, &h, &got, 0));
  else
    data.reset(stbi_load_from_memory(bytes.data(), len, &w, &h, &got, 0));
  if (!data) throw InputError(fmt::format("{}: cannot decode the {} data: {}", name, img.format, stbi_failure_reason()));
  std::vector<unsigned char>().swap(bytes);  // the file is decoded: free it before the planes exist

  img.width = w;
  img.height = h;
  img.bits_per_sample = sixteen ? 16 : 8;
  // got: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA (palette images arrive expanded to RGB/RGBA).
  const int colour = got >= 3 ? 3 : 1;
  img.alpha_dropped = (got == 2 || got == 4);
  img.channels = colour == 3 ? std::vector<std::string>{"r", "g", "b"} : std::vector<std::string>{"gray"};
  const double full = sixteen ? 65535.0 : 255.0;
  const std::size_t n = static_cast<std::size_t>(w) * h;
  img.planes.resize(colour);  // (assign(colour, vector(n)) would hold one more plane as its model)
  for (auto& plane : img.planes) plane.resize(n);
  for (std::size_t i = 0; i < n; ++i)
    for (int c = 0; c < colour; ++c) {
      const double v = sixteen ? static_cast<const unsigned short*>(data.get())[i * got + c]
                               : static_cast<const unsigned char*>(data.get())[i * got + c];
      img.planes[c][i] = v / full;
    }
  return img;
}

void write_png(const std::filesystem::path& path, int width, int height, int channels,
               const std::vector<unsigned char>& pixels) {
  // libpng with a fast zlib level: previews are written often during a run, and stb's encoder
  // took several times longer than the simulation steps between two snapshots.
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "wb"), std::fclose);
  if (!file) throw RunError(fmt::format("{}: cannot create PNG", path.string()));
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  struct Guard {
    png_structp* p;
    png_infop* i;
    ~Guard() { png_destroy_write_struct(p, i); }
  } guard{&png, &info};
  if (!png || !info) throw RunError("libpng: out of memory");
  if (setjmp(png_jmpbuf(png))) throw RunError(fmt::format("{}: cannot write PNG", path.string()));
  png_init_io(png, file.get());
  png_set_compression_level(png, 2);
  png_set_filter(png, 0, PNG_FILTER_SUB);
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), 8,
               channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < height; ++y)
    png_write_row(png, pixels.data() + static_cast<std::size_t>(y) * width * channels);
  png_write_end(png, nullptr);
}

}  // namespace propagon
