#include "hdf5.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "propagon/error.hpp"

namespace propagon::h5 {

namespace {
[[noreturn]] void fail(const std::string& what) { throw RunError(fmt::format("HDF5: {}", what)); }

Handle check(hid_t id, Handle::Closer closer, const std::string& what) {
  if (id < 0) fail(what);
  return Handle(id, closer);
}

Handle scalar_space() { return check(H5Screate(H5S_SCALAR), H5Sclose, "cannot create a dataspace"); }

Handle utf8_string_type() {
  Handle t = check(H5Tcopy(H5T_C_S1), H5Tclose, "cannot create a string type");
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}

Handle simple_space(const std::vector<std::int64_t>& shape) {
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  return check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose,
               "cannot create a dataspace");
}

template <class T>
void write_numeric_attribute(hid_t obj, const std::string& name, hid_t type, const T* value,
                             const std::vector<std::int64_t>& shape) {
  Handle space = shape.empty() ? scalar_space() : simple_space(shape);
  Handle attr = check(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose,
                      "cannot create attribute " + name);
  if (H5Awrite(attr, type, value) < 0) fail("cannot write attribute " + name);
}

void write_numeric_dataset(hid_t loc, const std::string& name, hid_t type, const void* data,
                           const std::vector<std::int64_t>& shape) {
  Handle space = simple_space(shape);
  Handle ds = check(H5Dcreate2(loc, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose,
                    "cannot create dataset " + name);
  if (H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) fail("cannot write dataset " + name);
}
}  // namespace

QuietErrors::QuietErrors() {
  H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}
QuietErrors::~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }

Handle create_file(const std::filesystem::path& path) {
  return check(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose,
               "cannot create " + path.string());
}
Handle open_file_readonly(const std::filesystem::path& path) {
  QuietErrors quiet;
  return check(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose,
               "cannot open " + path.string() + " (missing or not an HDF5 file)");
}
Handle create_group(hid_t loc, const std::string& name) {
  return check(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose,
               "cannot create group " + name);
}
Handle open_dataset(hid_t loc, const std::string& path) {
  QuietErrors quiet;
  return check(H5Dopen2(loc, path.c_str(), H5P_DEFAULT), H5Dclose, "no dataset " + path);
}
bool exists(hid_t loc, const std::string& path) {
  QuietErrors quiet;
  // Check every component so a missing intermediate group is "no", not an error.
  std::size_t pos = path.front() == '/' ? 1 : 0;
  while (true) {
    const std::size_t next = path.find('/', pos);
    const std::string prefix = path.substr(0, next);
    if (H5Lexists(loc, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (next == std::string::npos) return true;
    pos = next + 1;
  }
}

bool is_dataset(hid_t loc, const std::string& path) {
  QuietErrors quiet;
  H5O_info_t info;
  if (H5Oget_info_by_name(loc, path.c_str(), &info, H5P_DEFAULT) < 0) return false;
  return info.type == H5O_TYPE_DATASET;
}

void write_attribute(hid_t obj, const std::string& name, const std::string& value) {
  Handle type = utf8_string_type();
  const char* p = value.c_str();
  write_numeric_attribute(obj, name, type, &p, {});
}
void write_attribute(hid_t obj, const std::string& name, std::int64_t value) {
  write_numeric_attribute(obj, name, H5T_NATIVE_INT64, &value, {});
}
void write_attribute(hid_t obj, const std::string& name, double value) {
  write_numeric_attribute(obj, name, H5T_NATIVE_DOUBLE, &value, {});
}
void write_attribute(hid_t obj, const std::string& name, const std::vector<double>& value) {
  write_numeric_attribute(obj, name, H5T_NATIVE_DOUBLE, value.data(), {static_cast<std::int64_t>(value.size())});
}

void write_attribute(hid_t obj, const std::string& name, std::uint64_t value) {
  write_numeric_attribute(obj, name, H5T_NATIVE_UINT64, &value, {});
}

bool has_attribute(hid_t obj, const std::string& name) { return H5Aexists(obj, name.c_str()) > 0; }

namespace {
Handle open_attribute(hid_t obj, const std::string& name) {
  QuietErrors quiet;
  return check(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose, "no attribute " + name);
}
}  // namespace

namespace {
// A string attribute or dataset, fixed-length or variable-length; `read` reads with a memory type.
template <class Read>
std::string read_string(hid_t file_type, const std::string& what, Read&& read) {
  if (H5Tget_class(file_type) != H5T_STRING) fail(what + " is not a string");
  if (H5Tis_variable_str(file_type) > 0) {
    Handle mtype = utf8_string_type();
    char* p = nullptr;
    if (read(mtype.get(), static_cast<void*>(&p)) < 0) fail("cannot read " + what);
    std::string s = p ? p : "";
    H5free_memory(p);
    return s;
  }
  std::string s(H5Tget_size(file_type), '\0');
  if (read(file_type, static_cast<void*>(s.data())) < 0) fail("cannot read " + what);
  return s.substr(0, s.find('\0'));
}
}  // namespace

std::string read_string_attribute(hid_t obj, const std::string& name) {
  Handle attr = open_attribute(obj, name);
  Handle ftype = check(H5Aget_type(attr), H5Tclose, "attribute type " + name);
  return read_string(ftype, "attribute " + name, [&](hid_t t, void* buf) { return H5Aread(attr, t, buf); });
}
std::int64_t read_int_attribute(hid_t obj, const std::string& name) {
  Handle attr = open_attribute(obj, name);
  std::int64_t v = 0;
  if (H5Aread(attr, H5T_NATIVE_INT64, &v) < 0) fail("cannot read attribute " + name);
  return v;
}
std::uint64_t read_uint_attribute(hid_t obj, const std::string& name) {
  Handle attr = open_attribute(obj, name);
  std::uint64_t v = 0;
  if (H5Aread(attr, H5T_NATIVE_UINT64, &v) < 0) fail("cannot read attribute " + name);
  return v;
}
double read_double_attribute(hid_t obj, const std::string& name) {
  Handle attr = open_attribute(obj, name);
  double v = 0;
  if (H5Aread(attr, H5T_NATIVE_DOUBLE, &v) < 0) fail("cannot read attribute " + name);
  return v;
}
std::vector<double> read_double_array_attribute(hid_t obj, const std::string& name) {
  Handle attr = open_attribute(obj, name);
  Handle space = check(H5Aget_space(attr), H5Sclose, "attribute space " + name);
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  std::vector<double> v(static_cast<std::size_t>(n));
  if (n > 0 && H5Aread(attr, H5T_NATIVE_DOUBLE, v.data()) < 0) fail("cannot read attribute " + name);
  return v;
}

void write_dataset(hid_t loc, const std::string& name, const float* data, const std::vector<std::int64_t>& shape) {
  write_numeric_dataset(loc, name, H5T_NATIVE_FLOAT, data, shape);
}
void write_dataset(hid_t loc, const std::string& name, const double* data, const std::vector<std::int64_t>& shape) {
  write_numeric_dataset(loc, name, H5T_NATIVE_DOUBLE, data, shape);
}
void write_dataset(hid_t loc, const std::string& name, const std::uint64_t* data, const std::vector<std::int64_t>& shape,
                   bool compress) {
  if (!compress) {
    write_numeric_dataset(loc, name, H5T_NATIVE_UINT64, data, shape);
    return;
  }
  Handle space = simple_space(shape);
  Handle plist = check(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "cannot create a property list");
  // One chunk per slowest-axis slice (a replicate), at most 2^20 elements.
  std::vector<hsize_t> chunk(shape.begin(), shape.end());
  chunk[0] = 1;
  hsize_t elems = 1;
  for (std::size_t i = chunk.size(); i-- > 1;) {
    if (elems * chunk[i] > (1u << 20)) chunk[i] = std::max<hsize_t>(1, (1u << 20) / elems);
    elems *= chunk[i];
  }
  H5Pset_chunk(plist, static_cast<int>(chunk.size()), chunk.data());
  H5Pset_shuffle(plist);
  H5Pset_deflate(plist, 1);
  Handle ds = check(H5Dcreate2(loc, name.c_str(), H5T_NATIVE_UINT64, space, H5P_DEFAULT, plist, H5P_DEFAULT), H5Dclose,
                    "cannot create dataset " + name);
  if (H5Dwrite(ds, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) fail("cannot write dataset " + name);
}

void write_string_dataset(hid_t loc, const std::string& name, const std::string& text) {
  Handle type = utf8_string_type();
  Handle space = scalar_space();
  Handle ds = check(H5Dcreate2(loc, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose,
                    "cannot create dataset " + name);
  const char* p = text.c_str();
  if (H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, &p) < 0) fail("cannot write dataset " + name);
}

std::vector<std::int64_t> dataset_shape(hid_t dataset) {
  Handle space = check(H5Dget_space(dataset), H5Sclose, "dataset space");
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  if (rank > 0) H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  return std::vector<std::int64_t>(dims.begin(), dims.end());
}
std::vector<double> read_dataset_as_double(hid_t dataset) {
  Handle space = check(H5Dget_space(dataset), H5Sclose, "dataset space");
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  std::vector<double> v(static_cast<std::size_t>(n));
  if (n > 0 && H5Dread(dataset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
    fail("cannot read a dataset as numbers");
  return v;
}
std::vector<std::uint64_t> read_dataset_as_uint64(hid_t dataset) {
  Handle space = check(H5Dget_space(dataset), H5Sclose, "dataset space");
  std::vector<std::uint64_t> v(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
  if (!v.empty() && H5Dread(dataset, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
    fail("cannot read a dataset as unsigned integers");
  return v;
}
std::vector<float> read_dataset_as_float(hid_t dataset) {
  Handle space = check(H5Dget_space(dataset), H5Sclose, "dataset space");
  std::vector<float> v(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
  if (!v.empty() && H5Dread(dataset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
    fail("cannot read a dataset as float32");
  return v;
}
std::string read_string_dataset(hid_t loc, const std::string& name) {
  Handle ds = open_dataset(loc, name);
  Handle ftype = check(H5Dget_type(ds), H5Tclose, "dataset type " + name);
  return read_string(ftype, "dataset " + name, [&](hid_t t, void* buf) { return H5Dread(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf); });
}
std::string dataset_type_name(hid_t dataset) {
  Handle t = check(H5Dget_type(dataset), H5Tclose, "dataset type");
  const std::size_t bytes = H5Tget_size(t);
  switch (H5Tget_class(t)) {
    case H5T_FLOAT: return fmt::format("float{}", bytes * 8);
    case H5T_INTEGER: return fmt::format("{}int{}", H5Tget_sign(t) == H5T_SGN_NONE ? "u" : "", bytes * 8);
    case H5T_STRING: return "string";
    default: return "other";
  }
}

}  // namespace propagon::h5
