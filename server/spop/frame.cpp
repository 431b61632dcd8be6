#include "spop/frame.hpp"

#include <limits>

namespace spop {

Error check_ids(const Frame& frame) noexcept {
  switch (frame.type) {
    case FrameType::haproxy_hello:
    case FrameType::haproxy_disconnect:
    case FrameType::agent_hello:
    case FrameType::agent_disconnect:
      return frame.stream_id == 0 && frame.frame_id == 0 ? Error::none : Error::bad_frame_id;
    case FrameType::notify:
    case FrameType::ack:
      return frame.frame_id != 0 ? Error::none : Error::bad_frame_id;
    case FrameType::unset:
      break;
  }
  return Error::none;
}

EncodeResult encode_frame(std::span<uint8_t> out, FrameType type, uint32_t flags,
                          uint64_t stream_id, uint64_t frame_id,
                          std::span<const uint8_t> payload) noexcept {
  const uint64_t len = frame_header_size(stream_id, frame_id) - 4 + uint64_t{payload.size()};
  if (Error e = check_frame_fits(len, std::numeric_limits<uint32_t>::max(), out.size());
      e != Error::none) {
    return {e, 0};
  }
  Writer w(out);
  w.frame_header(type, flags, stream_id, frame_id);
  w.raw(payload.data(), payload.size());
  w.patch_len();
  return {Error::none, w.size()};
}

}  // namespace spop
