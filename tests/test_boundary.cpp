#include <gtest/gtest.h>

#include "propagon/boundary.hpp"

using propagon::Boundary;
using propagon::map_index;

TEST(Boundary, PeriodicWrapsRepeatedly) {
  EXPECT_EQ(map_index(-1, 7, Boundary::periodic), 6);
  EXPECT_EQ(map_index(7, 7, Boundary::periodic), 0);
  EXPECT_EQ(map_index(-15, 7, Boundary::periodic), 6);
  EXPECT_EQ(map_index(16, 7, Boundary::periodic), 2);
  EXPECT_EQ(map_index(-2, 2, Boundary::periodic), 0);
  EXPECT_EQ(map_index(3, 2, Boundary::periodic), 1);
}

TEST(Boundary, ReflectIsHalfSampleSymmetric) {
  // dcba|abcd|dcba
  EXPECT_EQ(map_index(-1, 4, Boundary::reflect), 0);
  EXPECT_EQ(map_index(-2, 4, Boundary::reflect), 1);
  EXPECT_EQ(map_index(-4, 4, Boundary::reflect), 3);
  EXPECT_EQ(map_index(4, 4, Boundary::reflect), 3);
  EXPECT_EQ(map_index(5, 4, Boundary::reflect), 2);
  // folded again for kernels wider than the grid: ...abcd|dcba|abcd
  EXPECT_EQ(map_index(-5, 4, Boundary::reflect), 3);
  EXPECT_EQ(map_index(-8, 4, Boundary::reflect), 0);
  EXPECT_EQ(map_index(8, 4, Boundary::reflect), 0);
  EXPECT_EQ(map_index(-3, 1, Boundary::reflect), 0);
}

TEST(Boundary, ClampAndAbsorb) {
  EXPECT_EQ(map_index(-3, 5, Boundary::clamp), 0);
  EXPECT_EQ(map_index(9, 5, Boundary::clamp), 4);
  EXPECT_EQ(map_index(-1, 5, Boundary::absorb), -1);
  EXPECT_EQ(map_index(5, 5, Boundary::absorb), -1);
  EXPECT_EQ(map_index(2, 5, Boundary::absorb), 2);
}

TEST(Boundary, ScipyAliases) {
  EXPECT_EQ(propagon::parse_boundary("wrap"), Boundary::periodic);
  EXPECT_EQ(propagon::parse_boundary("nearest"), Boundary::clamp);
  EXPECT_EQ(propagon::parse_boundary("constant"), Boundary::absorb);
  EXPECT_FALSE(propagon::parse_boundary("mirror").has_value());
}
