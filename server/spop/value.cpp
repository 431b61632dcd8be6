#include "spop/value.hpp"

namespace spop {

bool operator==(const Value& a, const Value& b) noexcept {
  if (a.type != b.type) return false;
  switch (a.type) {
    case DataType::null:
      return true;
    case DataType::boolean:
      return a.as_bool() == b.as_bool();
    case DataType::int32:
    case DataType::uint32:
    case DataType::int64:
    case DataType::uint64:
      return a.integer == b.integer;
    case DataType::ipv4:
    case DataType::ipv6:
    case DataType::string:
    case DataType::binary:
      return a.bytes == b.bytes;
  }
  return a.integer == b.integer && a.bytes == b.bytes;
}

std::string_view name_of(DataType type) noexcept {
  switch (type) {
    case DataType::null:
      return "null";
    case DataType::boolean:
      return "bool";
    case DataType::int32:
      return "int32";
    case DataType::uint32:
      return "uint32";
    case DataType::int64:
      return "int64";
    case DataType::uint64:
      return "uint64";
    case DataType::ipv4:
      return "ipv4";
    case DataType::ipv6:
      return "ipv6";
    case DataType::string:
      return "string";
    case DataType::binary:
      return "binary";
  }
  return "reserved";
}

}  // namespace spop
