// Image handling: palette expansion, 16-bit scaling, channels, alpha, broken files.
#include <gtest/gtest.h>

#include "scratch.hpp"
#include <stb_image_write.h>

#include "propagon/error.hpp"
#include "propagon/image.hpp"

using namespace propagon;

namespace {
std::filesystem::path data(const char* name) { return std::filesystem::path(PROPAGON_SOURCE_DIR) / "tests" / "data" / name; }
}  // namespace

TEST(Image, PaletteGivesItsColours) {
  const ImageData img = load_image(data("palette_3x2.png"));
  ASSERT_EQ(img.channels, (std::vector<std::string>{"r", "g", "b"}));
  EXPECT_EQ(img.width, 3);
  EXPECT_EQ(img.height, 2);
  // indices 0 1 2 / 2 1 0 into (255,0,0) (0,128,255) (10,20,30)
  EXPECT_DOUBLE_EQ(img.planes[0][0], 1.0);
  EXPECT_DOUBLE_EQ(img.planes[1][1], 128.0 / 255);
  EXPECT_DOUBLE_EQ(img.planes[2][1], 1.0);
  EXPECT_DOUBLE_EQ(img.planes[0][3], 10.0 / 255);  // row 1 starts with index 2: row 0 is the top row
  EXPECT_DOUBLE_EQ(img.planes[2][3], 30.0 / 255);
  const ImageData real = load_image(data("palette_color.png"));
  EXPECT_EQ(real.channels.size(), 3u);
}

TEST(Image, SixteenBitIsScaledNotClipped) {
  const ImageData img = load_image(data("gray16_2x2.png"));
  ASSERT_EQ(img.channels, std::vector<std::string>{"gray"});
  EXPECT_EQ(img.bits_per_sample, 16);
  EXPECT_DOUBLE_EQ(img.planes[0][0], 0.0);
  EXPECT_DOUBLE_EQ(img.planes[0][1], 1.0);
  EXPECT_DOUBLE_EQ(img.planes[0][2], 32768.0 / 65535);
  EXPECT_DOUBLE_EQ(img.planes[0][3], 1000.0 / 65535);
  const ImageData rgb = load_image(data("rgb16_2x1.png"));
  EXPECT_DOUBLE_EQ(rgb.planes[2][0], 13107.0 / 65535);
  EXPECT_DOUBLE_EQ(rgb.planes[1][1], 32768.0 / 65535);
}

TEST(Image, AlphaIsDropped) {
  const ImageData ga = load_image(data("gray_alpha_2x1.png"));
  EXPECT_EQ(ga.channels, std::vector<std::string>{"gray"});
  EXPECT_TRUE(ga.alpha_dropped);
  EXPECT_DOUBLE_EQ(ga.planes[0][0], 51.0 / 255);
  EXPECT_DOUBLE_EQ(ga.planes[0][1], 204.0 / 255);  // not premultiplied by its alpha of 0
  const ImageData rgba = load_image(data("rgba_2x1.png"));
  EXPECT_EQ(rgba.channels.size(), 3u);
  EXPECT_DOUBLE_EQ(rgba.planes[0][0], 1.0);
  EXPECT_DOUBLE_EQ(rgba.planes[2][1], 51.0 / 255);
}

TEST(Image, RgbPhotoGivesThreeFields) {
  const ImageData img = load_image(std::filesystem::path(PROPAGON_SOURCE_DIR) / "configs" / "images" / "astronaut.png");
  EXPECT_EQ(img.channels.size(), 3u);
  EXPECT_EQ(img.width, 512);
  EXPECT_EQ(img.height, 512);
  EXPECT_EQ(img.planes[0].size(), 512u * 512u);
}

TEST(Image, JpegLoadsAndATruncatedOneIsRefused) {
  const auto dir = propagon::testing::scratch_dir("jpeg");
  std::vector<unsigned char> px(16 * 8 * 3);
  for (std::size_t i = 0; i < px.size(); ++i) px[i] = static_cast<unsigned char>((i * 5) % 256);
  ASSERT_TRUE(stbi_write_jpg((dir / "ok.jpg").c_str(), 16, 8, 3, px.data(), 95));
  const ImageData img = load_image(dir / "ok.jpg");
  EXPECT_EQ(img.format, "JPEG");
  EXPECT_EQ(img.width, 16);
  EXPECT_EQ(img.channels.size(), 3u);
  try {
    load_image(data("truncated.jpg"));
    FAIL() << "a truncated JPEG was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
}

TEST(Image, MissingAndNonImageFiles) {
  EXPECT_THROW(load_image(data("no_such.png")), InputError);
  EXPECT_THROW(load_image(data("make_fixtures.py")), InputError);
}
