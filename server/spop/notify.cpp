#include "spop/notify.hpp"

#include <limits>

#include "spop/reader.hpp"

namespace spop {

namespace {
// Enough for the usual NOTIFY (a message or two of a few args) without reallocation.
constexpr size_t initial_messages = 8;
constexpr size_t initial_args = 32;
}  // namespace

NotifyDecoder::NotifyDecoder() {
  messages_.reserve(initial_messages);
  args_.reserve(initial_args);
}

void NotifyDecoder::shrink_to_fit() {
  std::vector<Message>().swap(messages_);
  std::vector<Arg>().swap(args_);
  messages_.reserve(initial_messages);
  args_.reserve(initial_args);
}

Error NotifyDecoder::decode(std::span<const uint8_t> payload) {
  messages_.clear();
  args_.clear();
  Reader r(payload);
  Error e = Error::none;
  while (!r.empty()) {
    Message m;
    uint8_t nb_args = 0;
    if ((e = r.read_name(m.name)) != Error::none) break;
    if ((e = r.read_u8(nb_args)) != Error::none) break;
    m.first_arg = static_cast<uint32_t>(args_.size());
    m.arg_count = nb_args;
    for (unsigned i = 0; i < nb_args && e == Error::none; ++i) {
      if (r.empty()) {
        e = Error::bad_nb_args;
        break;
      }
      Arg& a = args_.emplace_back();
      if ((e = r.read_name(a.name)) != Error::none) break;
      e = r.read_value(a.value);
    }
    if (e != Error::none) break;
    messages_.push_back(m);
  }
  if (e != Error::none) {
    messages_.clear();
    args_.clear();
  }
  return e;
}

NotifyWriter::NotifyWriter(std::span<uint8_t> out, uint64_t stream_id, uint64_t frame_id,
                           uint32_t flags, FrameType type) noexcept
    : w_(out) {
  if (frame_header_size(stream_id, frame_id) > out.size()) {
    error_ = Error::output_too_small;
    return;
  }
  w_.frame_header(type, flags, stream_id, frame_id);
}

bool NotifyWriter::add_message(std::string_view name, uint8_t nb_args) noexcept {
  if (error_ != Error::none || args_left_ != 0) return false;
  if (name_size(name) + 1 > w_.room()) return false;
  w_.name(name);
  w_.u8(nb_args);
  args_left_ = nb_args;
  return true;
}

bool NotifyWriter::add_arg(std::string_view name, const Value& value) noexcept {
  if (error_ != Error::none || args_left_ == 0) return false;
  const size_t value_size = encoded_size(value);
  if (value_size == 0 || name_size(name) + value_size > w_.room()) return false;
  w_.name(name);
  w_.value(value);
  --args_left_;
  return true;
}

EncodeResult NotifyWriter::finish() noexcept {
  if (error_ != Error::none) return {error_, 0};
  if (args_left_ != 0) return {Error::bad_nb_args, 0};
  if (w_.size() - 4 > std::numeric_limits<uint32_t>::max()) {
    return {Error::exceeds_max_frame_size, 0};
  }
  w_.patch_len();
  return {Error::none, w_.size()};
}

}  // namespace spop
