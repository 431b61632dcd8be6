#include "agent/engine_settings.hpp"

namespace spoa::agent {

EngineSettings engine_settings(const config::Config& config) {
  EngineSettings settings;
  settings.max_frame_size = config.server.max_frame_size;
  settings.pipelining = false;
  for (const auto& capability : config.server.capabilities) {
    if (capability == "pipelining") settings.pipelining = true;
    if (capability == "async") settings.async = true;
    if (capability == "fragmentation") settings.fragmentation = true;
  }
  settings.max_inflight = config.server.max_inflight_per_connection;
  settings.hello_timeout = config.timeouts.hello;
  settings.idle_timeout = config.timeouts.idle;
  settings.processing_timeout = config.timeouts.processing;
  settings.write_timeout = config.timeouts.write;
  return settings;
}

}  // namespace spoa::agent
