#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "spop/errors.hpp"
#include "spop/types.hpp"
#include "spop/value.hpp"
#include "spop/writer.hpp"

namespace spop {

// One argument of a NOTIFY message; an unnamed argument has an empty name (spop.md §4).
struct Arg {
  std::string_view name;
  Value value;
};

// A message names its arguments by index into NotifyDecoder's argument list.
struct Message {
  std::string_view name;
  uint32_t first_arg = 0;
  uint32_t arg_count = 0;
};

// Decodes a NOTIFY payload, the list of messages of spop.md §4. Names and values are views
// into the payload. Reuse one decoder per connection: it keeps its vectors' capacity, so
// once warmed up decoding allocates nothing. The smallest argument is 2 bytes (unnamed
// NULL), so a payload of N bytes never needs more than N/2 Args; a connection that saw a
// pathological frame may call shrink_to_fit() to give that memory back.
class NotifyDecoder {
 public:
  NotifyDecoder();

  // Validates the whole payload. Zero messages is valid (HAProxy 3.1-3.3 could send one,
  // §4). On error, messages() is empty.
  Error decode(std::span<const uint8_t> payload);

  std::span<const Message> messages() const noexcept { return messages_; }
  std::span<const Arg> args(const Message& m) const noexcept {
    return std::span<const Arg>(args_).subspan(m.first_arg, m.arg_count);
  }

  // Drops the decoded messages and frees capacity beyond the initial reservation.
  void shrink_to_fit();
  // True once a large NOTIFY grew the vectors past what ordinary traffic needs (a few
  // hundred messages or arguments): the owner then calls shrink_to_fit() between frames.
  bool above_high_water() const noexcept {
    return messages_.capacity() > high_water || args_.capacity() > high_water;
  }
  static constexpr size_t high_water = 256;

 private:
  std::vector<Message> messages_;
  std::vector<Arg> args_;
};

// Builds a NOTIFY (test client, benchmarks, fuzz seeds) with any number of messages:
// add_message() announces nb_args, then exactly that many add_arg() calls follow.
// type = FrameType::unset crafts a fragment frame.
class NotifyWriter {
 public:
  NotifyWriter(std::span<uint8_t> out, uint64_t stream_id, uint64_t frame_id,
               uint32_t flags = flag_fin, FrameType type = FrameType::notify) noexcept;

  // false: no room, the previous message still lacks arguments, or an unencodable value;
  // nothing is written then.
  bool add_message(std::string_view name, uint8_t nb_args) noexcept;
  bool add_arg(std::string_view name, const Value& value) noexcept;

  // bad_nb_args if the last message lacks arguments; output_too_small if not even the
  // header fitted.
  EncodeResult finish() noexcept;

 private:
  Writer w_;
  Error error_ = Error::none;
  unsigned args_left_ = 0;
};

}  // namespace spop
