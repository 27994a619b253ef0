#pragma once
// Internal: RAII over the HDF5 C API, and the few typed reads/writes the project needs.
// Not a public header, so users of the library do not need HDF5's include paths.
#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace propagon::h5 {

/// Owns one HDF5 identifier and closes it with the matching H5*close.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)), closer_(o.closer_) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
      closer_ = o.closer_;
    }
    return *this;
  }
  ~Handle() { reset(); }
  void reset() {
    if (id_ >= 0 && closer_) closer_(id_);
    id_ = H5I_INVALID_HID;
  }
  hid_t get() const { return id_; }
  operator hid_t() const { return id_; }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

/// Silences HDF5's automatic error stack printing for the lifetime of the guard; errors become
/// exceptions with our own messages instead.
class QuietErrors {
 public:
  QuietErrors();
  ~QuietErrors();
  QuietErrors(const QuietErrors&) = delete;
  QuietErrors& operator=(const QuietErrors&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

Handle create_file(const std::filesystem::path& path);  ///< truncates
Handle open_file_readonly(const std::filesystem::path& path);
Handle create_group(hid_t loc, const std::string& name);
Handle open_dataset(hid_t loc, const std::string& path);
bool exists(hid_t loc, const std::string& path);
/// True if `path` (which exists) is a dataset rather than a group.
bool is_dataset(hid_t loc, const std::string& path);

void write_attribute(hid_t obj, const std::string& name, const std::string& value);
void write_attribute(hid_t obj, const std::string& name, std::int64_t value);
void write_attribute(hid_t obj, const std::string& name, double value);
void write_attribute(hid_t obj, const std::string& name, const std::vector<double>& value);
void write_attribute(hid_t obj, const std::string& name, std::uint64_t value);

std::string read_string_attribute(hid_t obj, const std::string& name);
std::int64_t read_int_attribute(hid_t obj, const std::string& name);
std::uint64_t read_uint_attribute(hid_t obj, const std::string& name);
double read_double_attribute(hid_t obj, const std::string& name);
std::vector<double> read_double_array_attribute(hid_t obj, const std::string& name);
bool has_attribute(hid_t obj, const std::string& name);

/// Writes a contiguous dataset of float, double or unsigned integers with the given shape.
void write_dataset(hid_t loc, const std::string& name, const float* data, const std::vector<std::int64_t>& shape);
void write_dataset(hid_t loc, const std::string& name, const double* data, const std::vector<std::int64_t>& shape);
/// Unsigned 64-bit counts; `compress` stores them chunked with shuffle + deflate (counts of many
/// replicates compress several-fold).
void write_dataset(hid_t loc, const std::string& name, const std::uint64_t* data, const std::vector<std::int64_t>& shape,
                   bool compress = false);
void write_string_dataset(hid_t loc, const std::string& name, const std::string& text);

/// Shape of a dataset (slowest first) and whether its values are floating point.
std::vector<std::int64_t> dataset_shape(hid_t dataset);
/// Reads any numeric dataset converted to float64.
std::vector<double> read_dataset_as_double(hid_t dataset);
std::vector<std::uint64_t> read_dataset_as_uint64(hid_t dataset);
/// Reads a float32 dataset without conversion (for bit-exact restarts).
std::vector<float> read_dataset_as_float(hid_t dataset);
std::string read_string_dataset(hid_t loc, const std::string& name);
/// "float32", "float64", "uint32", ... for messages and checks.
std::string dataset_type_name(hid_t dataset);

}  // namespace propagon::h5
