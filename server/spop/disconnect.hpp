#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "spop/errors.hpp"
#include "spop/writer.hpp"

namespace spop {

// DISCONNECT payload, either direction (spop.md §7): status-code (any integer type is
// accepted, as HAProxy does) and message. Absent keys leave 0 / "".
struct Disconnect {
  uint32_t status_code = 0;
  std::string_view message;
};
Error decode_disconnect(std::span<const uint8_t> payload, Disconnect& out) noexcept;

// HAProxy 2.6 treats a DISCONNECT message longer than 255 bytes as invalid (§7): the
// encoders cut longer messages to this length rather than fail to say goodbye.
inline constexpr size_t max_disconnect_message = 255;

// AGENT-DISCONNECT: sid = fid = 0, FIN, status-code as UINT32 then message as STRING.
EncodeResult encode_agent_disconnect(std::span<uint8_t> out, uint32_t max_frame_size, Status status,
                                     std::string_view message) noexcept;
// HAPROXY-DISCONNECT, same layout (test client).
EncodeResult encode_haproxy_disconnect(std::span<uint8_t> out, Status status,
                                       std::string_view message) noexcept;

}  // namespace spop
