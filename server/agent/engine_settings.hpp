#pragma once
// The per-connection protocol limits, derived once from the config.
#include <chrono>
#include <cstdint>

#include "config/config.hpp"

namespace spoa::agent {

struct EngineSettings {
  uint32_t max_frame_size = 16380;  // the most we announce; negotiated down to HAProxy's
  bool pipelining = true;           // capabilities we are willing to announce
  bool async = false;
  bool fragmentation = false;
  uint32_t max_inflight = 64;  // NOTIFYs awaiting an ACK per connection before reads pause
  // Reassembled fragmented NOTIFYs larger than this are refused with status 13.
  uint32_t max_reassembled_size = 1024 * 1024;
  std::chrono::milliseconds hello_timeout{5000};
  std::chrono::milliseconds idle_timeout{600000};
  std::chrono::milliseconds processing_timeout{1000};
  // A write that makes no progress for this long closes the connection (timeouts.write).
  std::chrono::milliseconds write_timeout{10000};
  // How long a DISCONNECT we sent may wait for the socket before we close anyway.
  std::chrono::milliseconds closing_grace{5000};

  // Memory bounds (README "Memory per connection"); not configurable: they only need to
  // be large enough for any legitimate peer.
  // Reads pause while this many bytes wait for the socket (ACKs a peer does not read).
  uint32_t max_queued_output = 64 * 1024;
  // Before the HELLO a frame may be this large: a HAPROXY-HELLO is about 150 bytes.
  uint32_t pre_hello_max_frame = 4096;
  // A NOTIFY with more messages is answered with an empty ACK and no plugin call.
  uint32_t max_messages_per_notify = 256;
};

EngineSettings engine_settings(const config::Config& config);

}  // namespace spoa::agent
