#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "spop/errors.hpp"
#include "spop/types.hpp"
#include "spop/value.hpp"
#include "spop/writer.hpp"

namespace spop {

// One action of an ACK payload (spop.md §4). UNSET-VAR actions carry a null value.
struct Action {
  ActionType type = ActionType::set_var;
  Scope scope = Scope::txn;
  std::string_view name;
  Value value;
};

// Decodes an ACK payload (test client side). Strict: an unknown action type, a scope
// above 4 or an nb-args other than 3 (SET-VAR) / 2 (UNSET-VAR) is an error, although
// HAProxy would silently drop the rest of the list (§4). Empty payload = no actions.
// On error out is empty.
Error decode_ack(std::span<const uint8_t> payload, std::vector<Action>& out);

constexpr bool is_valid(Scope scope) noexcept {
  return static_cast<uint8_t>(scope) <= 4;
}

// SET-VAR = 01 03 scope name value; UNSET-VAR = 02 02 scope name (spop.md §4).
// The sizes are 0 when the value cannot be encoded.
constexpr size_t set_var_size(std::string_view name, const Value& v) noexcept {
  const size_t value_size = encoded_size(v);
  return value_size == 0 ? 0 : 3 + name_size(name) + value_size;
}
constexpr size_t unset_var_size(std::string_view name) noexcept {
  return 3 + name_size(name);
}

namespace detail {
inline void put_set_var(Writer& w, Scope scope, std::string_view name, const Value& v) noexcept {
  w.u8(static_cast<uint8_t>(ActionType::set_var));
  w.u8(3);
  w.u8(static_cast<uint8_t>(scope));
  w.name(name);
  w.value(v);
}
inline void put_unset_var(Writer& w, Scope scope, std::string_view name) noexcept {
  w.u8(static_cast<uint8_t>(ActionType::unset_var));
  w.u8(2);
  w.u8(static_cast<uint8_t>(scope));
  w.name(name);
}
}  // namespace detail

// One action into out; returns the bytes written, or 0 (nothing written) if it does not
// fit, the value cannot be encoded or the scope is invalid.
inline size_t encode_set_var(std::span<uint8_t> out, Scope scope, std::string_view name,
                             const Value& v) noexcept {
  const size_t n = set_var_size(name, v);
  if (n == 0 || n > out.size() || !is_valid(scope)) return 0;
  Writer w(out);
  detail::put_set_var(w, scope, name, v);
  return n;
}
inline size_t encode_unset_var(std::span<uint8_t> out, Scope scope,
                               std::string_view name) noexcept {
  const size_t n = unset_var_size(name);
  if (n > out.size() || !is_valid(scope)) return 0;
  Writer w(out);
  detail::put_unset_var(w, scope, name);
  return n;
}

// Builds one ACK in place: the header first, then the actions, then finish() sets LEN.
// LEN never exceeds max_frame_size (an ACK over the negotiated size makes HAProxy drop
// the connection with code 3, §10.3) and the frame never exceeds the buffer: an action
// that does not fit is refused whole, the frame stays valid. ACKs are never fragmented
// (§6), so flags should keep FIN.
class AckWriter {
 public:
  AckWriter(std::span<uint8_t> out, uint32_t max_frame_size, uint64_t stream_id, uint64_t frame_id,
            uint32_t flags = flag_fin) noexcept
      : w_(out.first(std::min<size_t>(out.size(), size_t{max_frame_size} + 4))) {
    const size_t header = frame_header_size(stream_id, frame_id);
    error_ = check_frame_fits(header - 4, max_frame_size, out.size());
    if (error_ == Error::none) w_.frame_header(FrameType::ack, flags, stream_id, frame_id);
  }

  // false = does not fit (or invalid scope / value): nothing written, the ACK is still
  // valid without it.
  bool set_var(Scope scope, std::string_view name, const Value& v) noexcept {
    const size_t n = set_var_size(name, v);
    if (error_ != Error::none || n == 0 || n > w_.room() || !is_valid(scope)) return false;
    detail::put_set_var(w_, scope, name, v);
    return true;
  }
  bool unset_var(Scope scope, std::string_view name) noexcept {
    if (error_ != Error::none || unset_var_size(name) > w_.room() || !is_valid(scope)) {
      return false;
    }
    detail::put_unset_var(w_, scope, name);
    return true;
  }
  // Pre-encoded actions (from encode_set_var / encode_unset_var), copied as they are.
  bool append_actions(std::span<const uint8_t> encoded) noexcept {
    if (error_ != Error::none || encoded.size() > w_.room()) return false;
    w_.raw(encoded.data(), encoded.size());
    return true;
  }

  // Bytes still available for actions (0 if the header did not fit).
  size_t room() const noexcept { return error_ == Error::none ? w_.room() : 0; }

  // The whole frame; an error (and size 0) only if the header itself did not fit.
  EncodeResult finish() noexcept {
    if (error_ != Error::none) return {error_, 0};
    w_.patch_len();
    return {Error::none, w_.size()};
  }

 private:
  Writer w_;
  Error error_ = Error::none;
};

}  // namespace spop
