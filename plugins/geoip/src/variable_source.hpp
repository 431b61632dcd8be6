// Where a variable's value comes from: a data path into the matched record
// ("country.iso_code", "subdivisions.0.names.en"), or a property of the match itself
// ("@prefix", "@network", "@found", "@build_epoch").
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace spoa::geoip {

class VariableSource {
 public:
  enum class Kind {
    data_path,    // a value inside the record
    prefix,       // @prefix: length of the matched network, in the address's family
    network,      // @network: the matched network, "192.0.2.0/24"
    found,        // @found: whether the address is in the database at all
    build_epoch,  // @build_epoch: the database's build time (metadata), Unix seconds
    address,      // @address: the address looked up (after the forwarded-header walk)
  };

  // Throws std::invalid_argument with a reason ("empty component at position 2", ...).
  static VariableSource parse(std::string_view text);

  Kind kind() const noexcept { return kind_; }
  const std::string& text() const noexcept { return text_; }
  // The path components, and the same as a NULL-terminated array for MMDB_aget_value. A
  // component of digits (or '-' and digits) indexes an array, counting from the end when
  // negative; in a map it is an ordinary key.
  const std::vector<std::string>& components() const noexcept { return components_; }
  const char* const* mmdb_path() const noexcept { return mmdb_path_.data(); }

  VariableSource(const VariableSource& other);
  VariableSource& operator=(const VariableSource& other);
  VariableSource(VariableSource&&) noexcept;
  VariableSource& operator=(VariableSource&&) noexcept;
  ~VariableSource() = default;

 private:
  VariableSource() = default;
  void point_path();

  Kind kind_ = Kind::data_path;
  std::string text_;
  std::vector<std::string> components_;
  std::vector<const char*> mmdb_path_;
};

}  // namespace spoa::geoip
