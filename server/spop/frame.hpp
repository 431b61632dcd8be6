#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "spop/errors.hpp"
#include "spop/reader.hpp"
#include "spop/types.hpp"
#include "spop/writer.hpp"

namespace spop {

// One frame (spop.md §1), its payload a view into the decoded buffer.
struct Frame {
  FrameType type = FrameType::unset;  // may name no enumerator: see is_known()
  uint8_t raw_type = 0;
  uint32_t flags = 0;
  uint64_t stream_id = 0;
  uint64_t frame_id = 0;
  std::span<const uint8_t> payload;

  bool fin() const noexcept { return (flags & flag_fin) != 0; }
  bool abort() const noexcept { return (flags & flag_abort) != 0; }
};

struct FrameResult {
  Error error = Error::none;
  size_t consumed = 0;  // 4 + LEN on success, else 0
  Frame frame{};
};

// Decodes the frame at the start of buffer.
// - need_more while the buffer holds less than a whole frame;
// - frame_too_big as soon as the 4 LEN bytes say LEN > max_frame_size, so a receive
//   buffer is never grown for a frame that will be refused (spop.md §10.2);
// - frame_too_short for LEN < 7 (a zero-length frame once made HAProxy spin, §1);
// - the header varints must fit inside LEN.
// The frame type is not checked: unknown types are skipped by the caller (§8).
inline FrameResult decode_frame(std::span<const uint8_t> buffer, uint32_t max_frame_size) noexcept {
  FrameResult r;
  if (buffer.size() < 4) {
    r.error = Error::need_more;
    return r;
  }
  Reader len_reader(buffer.first(4));
  uint32_t len = 0;
  len_reader.read_u32_be(len);
  if (len > max_frame_size) {
    r.error = Error::frame_too_big;
    return r;
  }
  if (len < min_frame_len) {
    r.error = Error::frame_too_short;
    return r;
  }
  if (buffer.size() - 4 < len) {
    r.error = Error::need_more;
    return r;
  }
  Reader reader(buffer.subspan(4, len));
  Frame& f = r.frame;
  // LEN >= 7 guarantees the type and flags bytes.
  reader.read_u8(f.raw_type);
  reader.read_u32_be(f.flags);
  f.type = static_cast<FrameType>(f.raw_type);
  if (Error e = reader.read_varint(f.stream_id); e != Error::none) {
    r.error = e;
    return r;
  }
  if (Error e = reader.read_varint(f.frame_id); e != Error::none) {
    r.error = e;
    return r;
  }
  f.payload = {reader.position(), reader.remaining()};
  r.consumed = 4 + static_cast<size_t>(len);
  return r;
}

// The id rules of spop.md §1/§8: HELLO and DISCONNECT carry sid = fid = 0; NOTIFY and
// ACK a frame-id >= 1 (stream-id 0 is legal: HAProxy <= 3.0 numbers its first stream 0).
// Other types are not checked (fragments are matched against the pending NOTIFY).
Error check_ids(const Frame& frame) noexcept;

// Writes any frame, bad ones included (tests, fuzz seeds). LEN must fit in 32 bits.
EncodeResult encode_frame(std::span<uint8_t> out, FrameType type, uint32_t flags,
                          uint64_t stream_id, uint64_t frame_id,
                          std::span<const uint8_t> payload) noexcept;

}  // namespace spop
