#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "spop/errors.hpp"
#include "spop/writer.hpp"

namespace spop {

// HAPROXY-HELLO payload (spop.md §5). Keys match exactly (HAProxy itself matches by
// prefix, §5); unknown keys are skipped; a known key with a value of the wrong type is
// an error. Absent keys keep their defaults, so check the has_* flags.
struct HaproxyHello {
  bool has_versions = false;
  std::string_view supported_versions;
  bool has_max_frame_size = false;
  uint32_t max_frame_size = 0;
  bool has_capabilities = false;
  std::string_view capabilities;
  std::string_view engine_id;  // absent in health checks
  bool healthcheck = false;
};
Error decode_haproxy_hello(std::span<const uint8_t> payload, HaproxyHello& out) noexcept;

// AGENT-HELLO payload (spop.md §5), for the test client side.
struct AgentHello {
  bool has_version = false;
  std::string_view version;
  bool has_max_frame_size = false;
  uint32_t max_frame_size = 0;
  bool has_capabilities = false;
  std::string_view capabilities;
};
Error decode_agent_hello(std::span<const uint8_t> payload, AgentHello& out) noexcept;

// AGENT-HELLO frame: sid = fid = 0, flags exactly FIN, keys version, max-frame-size
// (UINT32), capabilities, the last always sent, even empty (3.1+ health checks fail
// with 7 without it, §5). max_frame_size caps LEN.
EncodeResult encode_agent_hello(std::span<uint8_t> out, uint32_t max_frame_size,
                                std::string_view version, uint32_t negotiated_max_frame_size,
                                std::string_view capabilities) noexcept;

// HAPROXY-HELLO frame (test client, benchmarks, fuzz seeds), keys in HAProxy's order:
// supported-versions, max-frame-size, capabilities, then engine-id if not empty and
// healthcheck if set. The defaults are those of HAProxy 2.x.
struct HelloOptions {
  std::string_view supported_versions = "2.0";
  uint32_t max_frame_size = default_max_frame_size;
  std::string_view capabilities = "pipelining,async";
  std::string_view engine_id;
  bool healthcheck = false;
};
EncodeResult encode_haproxy_hello(std::span<uint8_t> out, const HelloOptions& options) noexcept;

}  // namespace spop
