#include "spop/disconnect.hpp"

#include <limits>

#include "spop/kv.hpp"
#include "spop/reader.hpp"

namespace spop {

Error decode_disconnect(std::span<const uint8_t> payload, Disconnect& out) noexcept {
  Disconnect d;
  Reader r(payload);
  while (!r.empty()) {
    std::string_view key;
    Value v;
    if (Error e = r.read_name(key); e != Error::none) return e;
    if (Error e = r.read_value(v); e != Error::none) return e;
    Error e = Error::none;
    if (key == "status-code") {
      e = kv::to_u32(v, d.status_code);
    } else if (key == "message") {
      e = kv::to_string(v, d.message);
    }
    if (e != Error::none) return e;
  }
  out = d;
  return Error::none;
}

namespace {

EncodeResult encode_disconnect(std::span<uint8_t> out, uint32_t max_frame_size, FrameType type,
                               Status status, std::string_view message) noexcept {
  const Value status_v = Value::uint32(static_cast<uint32_t>(status));
  const Value message_v = Value::string(message.substr(0, max_disconnect_message));
  const size_t len = frame_header_size(0, 0) - 4 + kv::item_size("status-code", status_v) +
                     kv::item_size("message", message_v);
  if (Error e = check_frame_fits(len, max_frame_size, out.size()); e != Error::none) return {e, 0};
  Writer w(out);
  w.frame_header(type, flag_fin, 0, 0);
  kv::put(w, "status-code", status_v);
  kv::put(w, "message", message_v);
  w.patch_len();
  return {Error::none, w.size()};
}

}  // namespace

EncodeResult encode_agent_disconnect(std::span<uint8_t> out, uint32_t max_frame_size, Status status,
                                     std::string_view message) noexcept {
  return encode_disconnect(out, max_frame_size, FrameType::agent_disconnect, status, message);
}

EncodeResult encode_haproxy_disconnect(std::span<uint8_t> out, Status status,
                                       std::string_view message) noexcept {
  return encode_disconnect(out, std::numeric_limits<uint32_t>::max(), FrameType::haproxy_disconnect,
                           status, message);
}

}  // namespace spop
