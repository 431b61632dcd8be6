#include "host/value_conversion.hpp"

#include <cstring>

namespace spoa::host {

spoa_value to_abi(const spop::Value& value) noexcept {
  spoa_value out{};
  out.type = static_cast<uint32_t>(value.type);
  switch (value.type) {
    case spop::DataType::null:
      break;
    case spop::DataType::boolean:
      out.u.boolean = value.as_bool() ? 1 : 0;
      break;
    case spop::DataType::int32:
      out.u.int32 = static_cast<int32_t>(value.as_int64());
      break;
    case spop::DataType::uint32:
      out.u.uint32 = static_cast<uint32_t>(value.as_uint64());
      break;
    case spop::DataType::int64:
      out.u.int64 = value.as_int64();
      break;
    case spop::DataType::uint64:
      out.u.uint64 = value.as_uint64();
      break;
    case spop::DataType::ipv4:
      std::memcpy(out.u.ipv4, value.bytes.data(), 4);
      break;
    case spop::DataType::ipv6:
      std::memcpy(out.u.ipv6, value.bytes.data(), 16);
      break;
    case spop::DataType::string:
    case spop::DataType::binary:
      out.u.bytes = {value.bytes.data(), value.bytes.size()};
      break;
  }
  return out;
}

std::optional<spop::Value> from_abi(const spoa_value& value) noexcept {
  switch (static_cast<spoa_type>(value.type)) {
    case SPOA_TYPE_NULL:
      return spop::Value::null();
    case SPOA_TYPE_BOOL:
      return spop::Value::boolean(value.u.boolean != 0);
    case SPOA_TYPE_INT32:
      return spop::Value::int32(value.u.int32);
    case SPOA_TYPE_UINT32:
      return spop::Value::uint32(value.u.uint32);
    case SPOA_TYPE_INT64:
      return spop::Value::int64(value.u.int64);
    case SPOA_TYPE_UINT64:
      return spop::Value::uint64(value.u.uint64);
    case SPOA_TYPE_IPV4:
      return spop::Value::ipv4({reinterpret_cast<const char*>(value.u.ipv4), 4});
    case SPOA_TYPE_IPV6:
      return spop::Value::ipv6({reinterpret_cast<const char*>(value.u.ipv6), 16});
    case SPOA_TYPE_STRING:
    case SPOA_TYPE_BINARY: {
      if (value.u.bytes.ptr == nullptr && value.u.bytes.len != 0) return std::nullopt;
      const std::string_view bytes(value.u.bytes.ptr, value.u.bytes.len);
      return value.type == SPOA_TYPE_STRING ? spop::Value::string(bytes)
                                            : spop::Value::binary(bytes);
    }
  }
  return std::nullopt;
}

}  // namespace spoa::host
