#pragma once
// The HAProxy side of SPOP, just enough for black-box tests: send a HELLO, read frames.
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "spop/hello.hpp"
#include "spop/notify.hpp"
#include "spop/types.hpp"

namespace spoa::test {

// One frame read off the wire, owning its bytes.
struct ReceivedFrame {
  std::vector<uint8_t> bytes;  // LEN included
  spop::FrameType type = spop::FrameType::unset;
  uint32_t flags = 0;
  uint64_t stream_id = 0;
  uint64_t frame_id = 0;
  size_t payload_offset = 0;

  std::span<const uint8_t> payload() const {
    return std::span<const uint8_t>(bytes).subspan(payload_offset);
  }
};

// Reads one whole frame. nullopt on timeout, end of stream, or bytes that are no frame.
std::optional<ReceivedFrame> read_frame(int fd, std::chrono::milliseconds timeout);

// A HAPROXY-HELLO frame (HAProxy 2.x defaults unless told otherwise).
std::vector<uint8_t> haproxy_hello(const spop::HelloOptions& options = {});

// A NOTIFY frame carrying one message.
std::vector<uint8_t> notify(uint64_t stream_id, uint64_t frame_id, std::string_view message,
                            const std::vector<spop::Arg>& args = {});

struct AgentHelloReply {
  std::string version;
  uint32_t max_frame_size = 0;
  std::string capabilities;
};

// Reads one frame and decodes it as an AGENT-HELLO; nullopt if it is anything else.
std::optional<AgentHelloReply> read_agent_hello(int fd, std::chrono::milliseconds timeout);

// Sends a HAPROXY-HELLO and reads the AGENT-HELLO it gets back.
std::optional<AgentHelloReply> hello(int fd, std::chrono::milliseconds timeout,
                                     const spop::HelloOptions& options = {});

}  // namespace spoa::test
