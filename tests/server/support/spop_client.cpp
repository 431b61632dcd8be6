#include "support/spop_client.hpp"

#include "spop/frame.hpp"
#include "support/socket.hpp"

namespace spoa::test {
namespace {
// The largest frame spoa-host can be configured to send (config::max_frame_size): anything
// above is garbage, not worth a 4 GiB allocation.
constexpr uint32_t largest_frame = 16777215;
}  // namespace

std::optional<ReceivedFrame> read_frame(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const auto left = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                 std::chrono::steady_clock::now());
  };
  auto header = receive_exactly(fd, 4, timeout);
  if (!header) return std::nullopt;
  const uint32_t len = (uint32_t{(*header)[0]} << 24) | (uint32_t{(*header)[1]} << 16) |
                       (uint32_t{(*header)[2]} << 8) | uint32_t{(*header)[3]};
  if (len < spop::min_frame_len || len > largest_frame) return std::nullopt;
  auto body = receive_exactly(fd, len, left());
  if (!body) return std::nullopt;

  ReceivedFrame received;
  received.bytes = std::move(*header);
  received.bytes.insert(received.bytes.end(), body->begin(), body->end());
  const spop::FrameResult result = spop::decode_frame(received.bytes, len);
  if (result.error != spop::Error::none) return std::nullopt;
  received.type = result.frame.type;
  received.flags = result.frame.flags;
  received.stream_id = result.frame.stream_id;
  received.frame_id = result.frame.frame_id;
  received.payload_offset =
      static_cast<size_t>(result.frame.payload.data() - received.bytes.data());
  return received;
}

std::vector<uint8_t> haproxy_hello(const spop::HelloOptions& options) {
  std::vector<uint8_t> frame(1024);
  const spop::EncodeResult result = spop::encode_haproxy_hello(frame, options);
  frame.resize(result.size);
  return frame;
}

std::vector<uint8_t> notify(uint64_t stream_id, uint64_t frame_id, std::string_view message,
                            const std::vector<spop::Arg>& args) {
  std::vector<uint8_t> frame(spop::default_max_frame_size);
  spop::NotifyWriter writer(frame, stream_id, frame_id);
  writer.add_message(message, static_cast<uint8_t>(args.size()));
  for (const auto& arg : args)
    writer.add_arg(arg.name, arg.value);
  frame.resize(writer.finish().size);
  return frame;
}

std::optional<AgentHelloReply> read_agent_hello(int fd, std::chrono::milliseconds timeout) {
  const auto frame = read_frame(fd, timeout);
  if (!frame || frame->type != spop::FrameType::agent_hello) return std::nullopt;
  spop::AgentHello decoded;
  if (spop::decode_agent_hello(frame->payload(), decoded) != spop::Error::none) {
    return std::nullopt;
  }
  return AgentHelloReply{std::string(decoded.version), decoded.max_frame_size,
                         std::string(decoded.capabilities)};
}

std::optional<AgentHelloReply> hello(int fd, std::chrono::milliseconds timeout,
                                     const spop::HelloOptions& options) {
  if (!send_all(fd, haproxy_hello(options), timeout)) return std::nullopt;
  return read_agent_hello(fd, timeout);
}

}  // namespace spoa::test
