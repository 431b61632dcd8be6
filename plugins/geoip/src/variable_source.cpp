#include "variable_source.hpp"

#include <stdexcept>

namespace spoa::geoip {

VariableSource VariableSource::parse(std::string_view text) {
  VariableSource source;
  source.text_ = std::string(text);
  if (text.empty()) throw std::invalid_argument("empty data path");
  if (text.front() == '@') {
    if (text == "@prefix") {
      source.kind_ = Kind::prefix;
    } else if (text == "@network") {
      source.kind_ = Kind::network;
    } else if (text == "@found") {
      source.kind_ = Kind::found;
    } else if (text == "@build_epoch") {
      source.kind_ = Kind::build_epoch;
    } else if (text == "@address") {
      source.kind_ = Kind::address;
    } else {
      throw std::invalid_argument(
          "'" + std::string(text) +
          "' is not one of @prefix, @network, @found, @build_epoch, @address");
    }
    source.point_path();
    return source;
  }
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = text.find('.', start);
    const std::string_view component =
        text.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (component.empty())
      throw std::invalid_argument("'" + std::string(text) + "' has an empty component at " +
                                  "position " + std::to_string(source.components_.size() + 1));
    source.components_.emplace_back(component);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  source.point_path();
  return source;
}

void VariableSource::point_path() {
  mmdb_path_.clear();
  for (const std::string& c : components_)
    mmdb_path_.push_back(c.c_str());
  mmdb_path_.push_back(nullptr);
}

VariableSource::VariableSource(const VariableSource& other)
    : kind_(other.kind_), text_(other.text_), components_(other.components_) {
  point_path();
}

VariableSource& VariableSource::operator=(const VariableSource& other) {
  if (this != &other) {
    kind_ = other.kind_;
    text_ = other.text_;
    components_ = other.components_;
    point_path();
  }
  return *this;
}

// Moving a std::string may move its characters (small-string buffer), so the pointers are
// always rebuilt.
VariableSource::VariableSource(VariableSource&& other) noexcept
    : kind_(other.kind_), text_(std::move(other.text_)), components_(std::move(other.components_)) {
  point_path();
}

VariableSource& VariableSource::operator=(VariableSource&& other) noexcept {
  kind_ = other.kind_;
  text_ = std::move(other.text_);
  components_ = std::move(other.components_);
  point_path();
  return *this;
}

}  // namespace spoa::geoip
