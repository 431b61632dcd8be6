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
};

EngineSettings engine_settings(const config::Config& config);

}  // namespace spoa::agent
