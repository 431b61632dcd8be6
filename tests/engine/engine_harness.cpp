#include "engine_harness.hpp"

#include <algorithm>
#include <stdexcept>

namespace spoa::agent::test {

Bytes hello_frame(const spop::HelloOptions& options) {
  Bytes out(4096);
  const spop::EncodeResult encoded = spop::encode_haproxy_hello(out, options);
  if (encoded.error != spop::Error::none) throw std::runtime_error("cannot encode HELLO");
  out.resize(encoded.size);
  return out;
}

Bytes notify_frame(uint64_t stream_id, uint64_t frame_id, const std::vector<Msg>& messages,
                   uint32_t flags, spop::FrameType type) {
  Bytes out(64 * 1024 + 64 * messages.size());
  spop::NotifyWriter writer(out, stream_id, frame_id, flags, type);
  for (const Msg& m : messages) {
    writer.add_message(m.name, 1);
    writer.add_arg("tag", spop::Value::string(m.tag));
  }
  const spop::EncodeResult encoded = writer.finish();
  if (encoded.error != spop::Error::none) throw std::runtime_error("cannot encode NOTIFY");
  out.resize(encoded.size);
  return out;
}

Bytes notify_payload(const std::vector<Msg>& messages) {
  const Bytes frame = notify_frame(1, 1, messages);
  const spop::FrameResult decoded = spop::decode_frame(frame, UINT32_MAX);
  return Bytes(decoded.frame.payload.begin(), decoded.frame.payload.end());
}

Bytes raw_frame(spop::FrameType type, uint32_t flags, uint64_t stream_id, uint64_t frame_id,
                std::span<const uint8_t> payload) {
  Bytes out(payload.size() + 64);
  const spop::EncodeResult encoded =
      spop::encode_frame(out, type, flags, stream_id, frame_id, payload);
  if (encoded.error != spop::Error::none) throw std::runtime_error("cannot encode frame");
  out.resize(encoded.size);
  return out;
}

Bytes haproxy_disconnect_frame(spop::Status status) {
  Bytes out(512);
  const spop::EncodeResult encoded = spop::encode_haproxy_disconnect(out, status, "bye");
  if (encoded.error != spop::Error::none) throw std::runtime_error("cannot encode DISCONNECT");
  out.resize(encoded.size);
  return out;
}

// ---------------------------------------------------------------------------------------

uint32_t FakePlugins::dispatch(const spop::NotifyDecoder& notify, host::NotifyCall& call,
                               uint32_t /*action_limit*/) {
  ++dispatched;
  std::vector<Message> messages;
  call.pending = 0;
  for (const spop::Message& message : notify.messages()) {
    if (message.name != "now" && message.name != "wait") continue;  // unclaimed
    std::string tag;
    for (const spop::Arg& arg : notify.args(message)) {
      if (arg.name == "tag") tag.assign(arg.value.bytes.begin(), arg.value.bytes.end());
    }
    const bool done = message.name == "now";
    if (!done) ++call.pending;
    messages.push_back({tag, done});
  }
  calls_[&call] = std::move(messages);
  return call.pending;
}

void FakePlugins::finish(host::NotifyCall& call, spop::AckWriter& ack) {
  const auto it = calls_.find(&call);
  if (it == calls_.end()) return;
  for (const Message& message : it->second) {
    if (message.done) ack.set_var(spop::Scope::txn, message.tag, spop::Value::int32(1));
  }
  calls_.erase(it);
  call.pending = 0;
}

void FakePlugins::abandon(host::NotifyCall& call) {
  if (calls_.erase(&call) != 0) ++abandoned;
  call.pending = 0;
}

bool FakePlugins::adopt(host::NotifyCall& call, TimePoint deadline) {
  calls_.erase(&call);
  ++adopted;
  adopted_deadline = deadline;
  return true;
}

host::NotifyCall* FakePlugins::complete(uint64_t stream_id, uint64_t frame_id) {
  for (auto& [call, messages] : calls_) {
    if (call->stream_id != stream_id || call->frame_id != frame_id || call->pending == 0) continue;
    for (Message& message : messages)
      message.done = true;
    call->pending = 0;
    return call;
  }
  return nullptr;
}

// ---------------------------------------------------------------------------------------

EngineHarness::EngineHarness(EngineSettings settings)
    : settings_(settings),
      engine_(std::make_unique<Engine>(settings_, scratch_, plugins_, nullptr, "peer")) {}

void EngineHarness::start() {
  engine_->start(now_);
  pump();
}

void EngineHarness::handshake(const spop::HelloOptions& options) {
  start();
  feed(hello_frame(options));
  const Sent hello = expect_one(spop::FrameType::agent_hello);
  ASSERT_EQ(engine_->state(), Engine::State::running);
  (void)hello;
}

size_t EngineHarness::feed(std::span<const uint8_t> bytes) {
  size_t taken = 0;
  while (taken < bytes.size() && engine_->wants_read()) {
    const std::span<uint8_t> space = engine_->read_space();
    const size_t n = std::min(space.size(), bytes.size() - taken);
    std::copy_n(bytes.data() + taken, n, space.data());
    taken += n;
    engine_->received(now_, n);
    pump();
  }
  return taken;
}

void EngineHarness::advance(Millis by) {
  const TimePoint target = now_ + by;
  while (plugins_.armed && *plugins_.armed <= target && !engine_->closed()) {
    now_ = std::max(now_, *plugins_.armed);
    plugins_.armed.reset();
    engine_->on_timer(now_);
    pump();
  }
  now_ = target;
}

void EngineHarness::complete(uint64_t stream_id, uint64_t frame_id) {
  host::NotifyCall* call = plugins_.complete(stream_id, frame_id);
  ASSERT_NE(call, nullptr) << "no pending NOTIFY " << stream_id << "/" << frame_id;
  engine_->completed(*call);
  pump();
}

void EngineHarness::shutdown() {
  engine_->shutdown(now_);
  pump();
}

void EngineHarness::pump() {
  while (peer_reads) {
    const std::span<const uint8_t> out = engine_->output(now_);
    if (out.empty()) return;
    wire_.insert(wire_.end(), out.begin(), out.end());
    written_total += out.size();
    engine_->written(now_, out.size());
  }
}

std::vector<Sent> EngineHarness::take_sent() {
  std::vector<Sent> frames;
  size_t at = 0;
  while (true) {
    const spop::FrameResult r =
        spop::decode_frame(std::span<const uint8_t>(wire_).subspan(at), UINT32_MAX);
    if (r.error == spop::Error::need_more) break;
    if (r.error != spop::Error::none) throw std::runtime_error("engine sent a bad frame");
    Sent sent;
    sent.type = r.frame.type;
    sent.stream_id = r.frame.stream_id;
    sent.frame_id = r.frame.frame_id;
    sent.payload.assign(r.frame.payload.begin(), r.frame.payload.end());
    if (sent.type == spop::FrameType::ack) {
      std::vector<spop::Action> actions;
      if (spop::decode_ack(r.frame.payload, actions) != spop::Error::none) {
        throw std::runtime_error("engine sent a bad ACK");
      }
      for (const auto& action : actions)
        sent.vars.emplace_back(action.name);
    } else if (sent.type == spop::FrameType::agent_disconnect) {
      spop::Disconnect d;
      if (spop::decode_disconnect(r.frame.payload, d) != spop::Error::none) {
        throw std::runtime_error("engine sent a bad DISCONNECT");
      }
      sent.status = d.status_code;
    } else if (sent.type == spop::FrameType::agent_hello) {
      spop::AgentHello h;
      if (spop::decode_agent_hello(r.frame.payload, h) != spop::Error::none) {
        throw std::runtime_error("engine sent a bad AGENT-HELLO");
      }
      sent.capabilities.assign(h.capabilities);
      sent.max_frame_size = h.max_frame_size;
    }
    frames.push_back(std::move(sent));
    at += r.consumed;
  }
  wire_.erase(wire_.begin(), wire_.begin() + static_cast<std::ptrdiff_t>(at));
  return frames;
}

Sent EngineHarness::expect_one(spop::FrameType type) {
  std::vector<Sent> frames = take_sent();
  if (frames.size() != 1 || frames[0].type != type) {
    ADD_FAILURE() << "expected exactly one " << spop::name_of(type) << ", got " << frames.size()
                  << " frame(s)" << (frames.empty() ? "" : ", first ")
                  << (frames.empty() ? "" : spop::name_of(frames[0].type));
    return {};
  }
  return frames[0];
}

}  // namespace spoa::agent::test
