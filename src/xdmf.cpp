#include "propagon/xdmf.hpp"

#include <fmt/format.h>

#include <fstream>

#include "propagon/error.hpp"
#include "propagon/paraview_geometry.hpp"
#include "propagon/snapshot.hpp"

namespace propagon {

std::vector<XdmfAttribute> snapshot_attributes(const std::vector<std::string>& channels, Precision precision,
                                               bool counts, bool ensemble) {
  namespace L = snapshot_layout;
  const int bytes = precision == Precision::float32 ? 4 : 8;
  std::vector<XdmfAttribute> a;
  for (const auto& c : channels) a.push_back({c, L::field_path(c), "Float", bytes});
  if (counts)
    for (const auto& c : channels) a.push_back({c + "_counts", L::counts_path(c), "UInt", 8});
  if (ensemble)
    for (const auto& c : channels) {
      a.push_back({c + "_mean", L::mean_path(c), "Float", bytes});
      a.push_back({c + "_var", L::var_path(c), "Float", bytes});
    }
  return a;
}

XdmfIndex::XdmfIndex(std::filesystem::path xmf_file, Grid grid, std::vector<XdmfAttribute> attributes)
    : file_(std::move(xmf_file)), grid_(grid), attributes_(std::move(attributes)) {}

namespace {
std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}
}  // namespace

std::string XdmfIndex::xml() const {
  // Every grid is written as 3D CoRectMesh (a 2DCoRectMesh lands in the Y-Z plane in ParaView).
  // Dimensions are the HDF5 shape padded to z y x; geometry items are in z y x order too.
  const std::string dims = fmt::format("{} {} {}", grid_.nz(), grid_.ny(), grid_.nx());
  const ParaViewGeometry pv = paraview_geometry(grid_);
  std::string s;
  s += "<?xml version=\"1.0\" ?>\n<!DOCTYPE Xdmf SYSTEM \"Xdmf.dtd\" []>\n<Xdmf Version=\"2.0\">\n <Domain>\n";
  s += "  <Grid Name=\"propagon\" GridType=\"Collection\" CollectionType=\"Temporal\">\n";
  for (const auto& e : entries_) {
    s += fmt::format("   <Grid Name=\"step_{}\" GridType=\"Uniform\">\n", e.step);
    s += fmt::format("    <Time Value=\"{:.17g}\"/>\n", e.time);
    s += fmt::format("    <Topology TopologyType=\"3DCoRectMesh\" Dimensions=\"{}\"/>\n", dims);
    s += "    <Geometry GeometryType=\"ORIGIN_DXDYDZ\">\n";
    s += fmt::format("     <DataItem Name=\"Origin\" Dimensions=\"3\" NumberType=\"Float\" Precision=\"8\" Format=\"XML\">{:.17g} {:.17g} {:.17g}</DataItem>\n",
                     pv.origin[2], pv.origin[1], pv.origin[0]);
    s += fmt::format("     <DataItem Name=\"Spacing\" Dimensions=\"3\" NumberType=\"Float\" Precision=\"8\" Format=\"XML\">{:.17g} {:.17g} {:.17g}</DataItem>\n",
                     pv.spacing[2], pv.spacing[1], pv.spacing[0]);
    s += "    </Geometry>\n";
    for (const auto& a : attributes_) {
      s += fmt::format("    <Attribute Name=\"{}\" AttributeType=\"Scalar\" Center=\"Node\">\n", xml_escape(a.name));
      s += fmt::format("     <DataItem Dimensions=\"{}\" NumberType=\"{}\" Precision=\"{}\" Format=\"HDF\">{}:{}</DataItem>\n",
                       dims, a.number_type, a.bytes, xml_escape(e.snapshot), a.hdf5_path);
      s += "    </Attribute>\n";
    }
    s += "   </Grid>\n";
  }
  s += "  </Grid>\n </Domain>\n</Xdmf>\n";
  return s;
}

void XdmfIndex::add(std::int64_t step, double time, const std::string& snapshot, bool write) {
  entries_.push_back({step, time, snapshot});
  if (!write) return;
  const std::filesystem::path tmp = file_.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << xml();
    out.flush();
    if (!out) throw RunError(fmt::format("cannot write {}", tmp.string()));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, file_, ec);
  if (ec) throw RunError(fmt::format("cannot rename {} to {}: {}", tmp.string(), file_.string(), ec.message()));
}

}  // namespace propagon
