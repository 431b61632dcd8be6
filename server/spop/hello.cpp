#include "spop/hello.hpp"

#include <limits>

#include "spop/kv.hpp"
#include "spop/reader.hpp"

namespace spop {

Error decode_haproxy_hello(std::span<const uint8_t> payload, HaproxyHello& out) noexcept {
  HaproxyHello hello;
  Reader r(payload);
  while (!r.empty()) {
    std::string_view key;
    Value v;
    if (Error e = r.read_name(key); e != Error::none) return e;
    if (Error e = r.read_value(v); e != Error::none) return e;
    Error e = Error::none;
    if (key == "supported-versions") {
      e = kv::to_string(v, hello.supported_versions);
      hello.has_versions = true;
    } else if (key == "max-frame-size") {
      e = kv::to_u32(v, hello.max_frame_size);
      hello.has_max_frame_size = true;
    } else if (key == "capabilities") {
      e = kv::to_string(v, hello.capabilities);
      hello.has_capabilities = true;
    } else if (key == "engine-id") {
      e = kv::to_string(v, hello.engine_id);
    } else if (key == "healthcheck") {
      e = kv::to_bool(v, hello.healthcheck);
    }
    if (e != Error::none) return e;
  }
  out = hello;
  return Error::none;
}

Error decode_agent_hello(std::span<const uint8_t> payload, AgentHello& out) noexcept {
  AgentHello hello;
  Reader r(payload);
  while (!r.empty()) {
    std::string_view key;
    Value v;
    if (Error e = r.read_name(key); e != Error::none) return e;
    if (Error e = r.read_value(v); e != Error::none) return e;
    Error e = Error::none;
    if (key == "version") {
      e = kv::to_string(v, hello.version);
      hello.has_version = true;
    } else if (key == "max-frame-size") {
      e = kv::to_u32(v, hello.max_frame_size);
      hello.has_max_frame_size = true;
    } else if (key == "capabilities") {
      e = kv::to_string(v, hello.capabilities);
      hello.has_capabilities = true;
    }
    if (e != Error::none) return e;
  }
  out = hello;
  return Error::none;
}

EncodeResult encode_agent_hello(std::span<uint8_t> out, uint32_t max_frame_size,
                                std::string_view version, uint32_t negotiated_max_frame_size,
                                std::string_view capabilities) noexcept {
  const Value version_v = Value::string(version);
  const Value size_v = Value::uint32(negotiated_max_frame_size);
  const Value caps_v = Value::string(capabilities);
  const size_t len = frame_header_size(0, 0) - 4 + kv::item_size("version", version_v) +
                     kv::item_size("max-frame-size", size_v) +
                     kv::item_size("capabilities", caps_v);
  if (Error e = check_frame_fits(len, max_frame_size, out.size()); e != Error::none) return {e, 0};
  Writer w(out);
  w.frame_header(FrameType::agent_hello, flag_fin, 0, 0);
  kv::put(w, "version", version_v);
  kv::put(w, "max-frame-size", size_v);
  kv::put(w, "capabilities", caps_v);
  w.patch_len();
  return {Error::none, w.size()};
}

EncodeResult encode_haproxy_hello(std::span<uint8_t> out, const HelloOptions& options) noexcept {
  const Value versions_v = Value::string(options.supported_versions);
  const Value size_v = Value::uint32(options.max_frame_size);
  const Value caps_v = Value::string(options.capabilities);
  const Value engine_v = Value::string(options.engine_id);
  const Value check_v = Value::boolean(true);
  size_t len = frame_header_size(0, 0) - 4 + kv::item_size("supported-versions", versions_v) +
               kv::item_size("max-frame-size", size_v) + kv::item_size("capabilities", caps_v);
  if (!options.engine_id.empty()) len += kv::item_size("engine-id", engine_v);
  if (options.healthcheck) len += kv::item_size("healthcheck", check_v);
  if (Error e = check_frame_fits(len, std::numeric_limits<uint32_t>::max(), out.size());
      e != Error::none) {
    return {e, 0};
  }
  Writer w(out);
  w.frame_header(FrameType::haproxy_hello, flag_fin, 0, 0);
  kv::put(w, "supported-versions", versions_v);
  kv::put(w, "max-frame-size", size_v);
  kv::put(w, "capabilities", caps_v);
  if (!options.engine_id.empty()) kv::put(w, "engine-id", engine_v);
  if (options.healthcheck) kv::put(w, "healthcheck", check_v);
  w.patch_len();
  return {Error::none, w.size()};
}

}  // namespace spop
