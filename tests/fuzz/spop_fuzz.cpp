// libFuzzer entry for the SPOP codec: frames are cut from the input the way a connection
// cuts its receive buffer, every payload decoder runs on every payload, and what decodes
// is re-encoded and decoded again, which must give the same thing (round-trip oracle).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <span>
#include <vector>

#include "spop/spop.hpp"

namespace {

using namespace spop;

constexpr uint32_t max_frame_size = default_max_frame_size;

void check(bool ok) {
  if (!ok) std::abort();
}

bool inside(std::string_view view, std::span<const uint8_t> buffer) {
  const auto* p = reinterpret_cast<const uint8_t*>(view.data());
  return view.empty() || (p >= buffer.data() && p + view.size() <= buffer.data() + buffer.size());
}

// Decoded values are canonical once re-encoded; the canonical form is never longer than
// the original (varints are bijective below 2^64, flags on non-BOOL types are dropped).
std::vector<uint8_t>& scratch(size_t payload_size) {
  static std::vector<uint8_t> buffer;
  buffer.assign(payload_size + max_frame_header_size, 0);
  return buffer;
}

Frame reframe(std::span<const uint8_t> encoded, const Frame& original) {
  const FrameResult r = decode_frame(encoded, std::numeric_limits<uint32_t>::max());
  check(r.error == Error::none && r.consumed == encoded.size());
  check(r.frame.raw_type == original.raw_type && r.frame.flags == original.flags &&
        r.frame.stream_id == original.stream_id && r.frame.frame_id == original.frame_id);
  check(r.frame.payload.size() <= original.payload.size());
  return r.frame;
}

void round_trip_notify(const Frame& f, const NotifyDecoder& decoded) {
  std::vector<uint8_t>& out = scratch(f.payload.size());
  NotifyWriter w(out, f.stream_id, f.frame_id, f.flags, f.type);
  for (const Message& m : decoded.messages()) {
    check(w.add_message(m.name, static_cast<uint8_t>(m.arg_count)));
    for (const Arg& a : decoded.args(m))
      check(w.add_arg(a.name, a.value));
  }
  const EncodeResult r = w.finish();
  check(r.error == Error::none);
  const Frame again = reframe(std::span(out).first(r.size), f);
  NotifyDecoder d;
  check(d.decode(again.payload) == Error::none);
  check(d.messages().size() == decoded.messages().size());
  for (size_t i = 0; i < d.messages().size(); ++i) {
    const Message& a = d.messages()[i];
    const Message& b = decoded.messages()[i];
    check(a.name == b.name && a.arg_count == b.arg_count);
    for (size_t j = 0; j < a.arg_count; ++j) {
      check(d.args(a)[j].name == decoded.args(b)[j].name);
      check(d.args(a)[j].value == decoded.args(b)[j].value);
    }
  }
}

void round_trip_ack(const Frame& f, const std::vector<Action>& actions) {
  std::vector<uint8_t>& out = scratch(f.payload.size());
  AckWriter w(out, std::numeric_limits<uint32_t>::max(), f.stream_id, f.frame_id, f.flags);
  for (const Action& a : actions) {
    check(a.type == ActionType::set_var ? w.set_var(a.scope, a.name, a.value)
                                        : w.unset_var(a.scope, a.name));
  }
  const EncodeResult r = w.finish();
  check(r.error == Error::none);
  // AckWriter always writes type ACK; compare the rest against the original header.
  Frame expected = f;
  expected.raw_type = static_cast<uint8_t>(FrameType::ack);
  const Frame again = reframe(std::span(out).first(r.size), expected);
  std::vector<Action> back;
  check(decode_ack(again.payload, back) == Error::none);
  check(back.size() == actions.size());
  for (size_t i = 0; i < back.size(); ++i) {
    check(back[i].type == actions[i].type && back[i].scope == actions[i].scope &&
          back[i].name == actions[i].name && back[i].value == actions[i].value);
  }
}

void round_trip_haproxy_hello(const HaproxyHello& h) {
  if (!h.has_versions || !h.has_max_frame_size || !h.has_capabilities) return;
  HelloOptions o;
  o.supported_versions = h.supported_versions;
  o.max_frame_size = h.max_frame_size;
  o.capabilities = h.capabilities;
  o.engine_id = h.engine_id;
  o.healthcheck = h.healthcheck;
  std::vector<uint8_t> out(256 + h.supported_versions.size() + h.capabilities.size() +
                           h.engine_id.size());
  const EncodeResult r = encode_haproxy_hello(out, o);
  check(r.error == Error::none);
  const FrameResult f = decode_frame(std::span(out).first(r.size), 0xFFFFFFFF);
  check(f.error == Error::none && f.frame.type == FrameType::haproxy_hello);
  HaproxyHello back;
  check(decode_haproxy_hello(f.frame.payload, back) == Error::none);
  check(back.supported_versions == h.supported_versions &&
        back.max_frame_size == h.max_frame_size && back.capabilities == h.capabilities &&
        back.engine_id == h.engine_id && back.healthcheck == h.healthcheck);
}

void round_trip_disconnect(const Disconnect& d) {
  std::vector<uint8_t> out(64 + max_disconnect_message);
  const EncodeResult r =
      encode_agent_disconnect(out, max_frame_size, static_cast<Status>(d.status_code), d.message);
  check(r.error == Error::none);
  const FrameResult f = decode_frame(std::span(out).first(r.size), max_frame_size);
  check(f.error == Error::none && f.frame.type == FrameType::agent_disconnect);
  Disconnect back;
  check(decode_disconnect(f.frame.payload, back) == Error::none);
  check(back.status_code == d.status_code &&
        back.message == d.message.substr(0, max_disconnect_message));
}

void decode_payloads(const Frame& f) {
  HaproxyHello hh;
  if (decode_haproxy_hello(f.payload, hh) == Error::none) {
    check(inside(hh.supported_versions, f.payload) && inside(hh.capabilities, f.payload) &&
          inside(hh.engine_id, f.payload));
    round_trip_haproxy_hello(hh);
  }
  AgentHello ah;
  if (decode_agent_hello(f.payload, ah) == Error::none) {
    check(inside(ah.version, f.payload) && inside(ah.capabilities, f.payload));
  }
  Disconnect d;
  if (decode_disconnect(f.payload, d) == Error::none) {
    check(inside(d.message, f.payload));
    round_trip_disconnect(d);
  }
  // One decoder for the whole run, as a connection keeps one.
  static NotifyDecoder notify;
  if (notify.decode(f.payload) == Error::none) {
    round_trip_notify(f, notify);
  } else {
    check(notify.messages().empty());
  }
  static std::vector<Action> actions;
  if (decode_ack(f.payload, actions) == Error::none) {
    round_trip_ack(f, actions);
  } else {
    check(actions.empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> buffer(data, size);
  while (!buffer.empty()) {
    const FrameResult r = decode_frame(buffer, max_frame_size);
    if (r.error != Error::none) {
      check(r.consumed == 0);
      break;
    }
    check(r.consumed >= 4 + min_frame_len && r.consumed <= buffer.size());
    check(r.frame.payload.data() >= buffer.data() &&
          r.frame.payload.data() + r.frame.payload.size() == buffer.data() + r.consumed);
    // A connection that has read one byte less must wait, not misparse.
    check(decode_frame(buffer.first(r.consumed - 1), max_frame_size).error == Error::need_more);
    (void)check_ids(r.frame);
    decode_payloads(r.frame);
    buffer = buffer.subspan(r.consumed);
  }
  return 0;
}
