#pragma once

#include <cstdint>
#include <string_view>

namespace spop {

// Frame type byte (spop.md §4). A received byte that names no enumerator is still stored
// as a FrameType; spop.md §8 says to skip such frames, so check with is_known().
enum class FrameType : uint8_t {
  unset = 0,  // NOTIFY continuation fragment (HAProxy <= 3.0, spop.md §6)
  haproxy_hello = 1,
  haproxy_disconnect = 2,
  notify = 3,
  agent_hello = 101,
  agent_disconnect = 102,
  ack = 103,
};

constexpr bool is_known(FrameType type) noexcept {
  switch (type) {
    case FrameType::unset:
    case FrameType::haproxy_hello:
    case FrameType::haproxy_disconnect:
    case FrameType::notify:
    case FrameType::agent_hello:
    case FrameType::agent_disconnect:
    case FrameType::ack:
      return true;
  }
  return false;
}

// The frame's name as SPOE.txt spells it, for log lines and error messages.
constexpr std::string_view name_of(FrameType type) noexcept {
  switch (type) {
    case FrameType::unset:
      return "UNSET";
    case FrameType::haproxy_hello:
      return "HAPROXY-HELLO";
    case FrameType::haproxy_disconnect:
      return "HAPROXY-DISCONNECT";
    case FrameType::notify:
      return "NOTIFY";
    case FrameType::agent_hello:
      return "AGENT-HELLO";
    case FrameType::agent_disconnect:
      return "AGENT-DISCONNECT";
    case FrameType::ack:
      return "ACK";
  }
  return "unknown";
}

// FLAGS bits 2-31 are reserved: sent as 0, ignored on receipt (spop.md §1).
inline constexpr uint32_t flag_fin = 1;
inline constexpr uint32_t flag_abort = 2;

// Low nibble of the type byte (spop.md §3).
enum class DataType : uint8_t {
  null = 0,
  boolean = 1,
  int32 = 2,
  uint32 = 3,
  int64 = 4,
  uint64 = 5,
  ipv4 = 6,
  ipv6 = 7,
  string = 8,
  binary = 9,
};

enum class Scope : uint8_t { proc = 0, sess = 1, txn = 2, req = 3, res = 4 };

enum class ActionType : uint8_t { set_var = 1, unset_var = 2 };

// Frame header sizes (spop.md §1): LEN is not counted in LEN; the smallest LEN is
// type + flags + one-byte sid + one-byte fid.
inline constexpr uint32_t min_frame_len = 7;
inline constexpr uint32_t default_max_frame_size = 16380;
inline constexpr uint32_t min_max_frame_size = 256;

}  // namespace spop
