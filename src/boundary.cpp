#include "propagon/boundary.hpp"

namespace propagon {

std::optional<Boundary> parse_boundary(std::string_view name) {
  if (name == "periodic" || name == "wrap") return Boundary::periodic;
  if (name == "reflect") return Boundary::reflect;
  if (name == "clamp" || name == "nearest") return Boundary::clamp;
  if (name == "absorb" || name == "constant") return Boundary::absorb;
  return std::nullopt;
}

const char* boundary_name(Boundary b) {
  switch (b) {
    case Boundary::periodic: return "periodic";
    case Boundary::reflect: return "reflect";
    case Boundary::clamp: return "clamp";
    case Boundary::absorb: return "absorb";
  }
  return "?";
}

const char* boundary_choices() {
  return "periodic, reflect, clamp or absorb; scipy's wrap, nearest and constant are aliases. "
         "scipy's mirror (OpenCV's reflect-101) is not offered: it does not conserve mass";
}

}  // namespace propagon
