#pragma once
// Drives one Engine as the adapter would, with a fake clock and fake plugins:
//  * the clock moves only when a test says so (advance()), and a timer the engine armed
//    fires exactly at its time on the way;
//  * FakePlugins answers message "now" at once and keeps "wait" pending until the test
//    completes it; every finished message becomes a SET-VAR named after its tag argument;
//  * the peer reads whatever the engine writes unless `peer_reads` is false.
// Nothing here sleeps or opens a socket.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/engine.hpp"
#include "spop/spop.hpp"

namespace spoa::agent::test {

using namespace std::chrono_literals;
using Bytes = std::vector<uint8_t>;
using Millis = std::chrono::milliseconds;

// A frame the engine sent.
struct Sent {
  spop::FrameType type = spop::FrameType::unset;
  uint64_t stream_id = 0;
  uint64_t frame_id = 0;
  Bytes payload;
  // ACK: the names of the variables it sets; DISCONNECT: its status; AGENT-HELLO: fields.
  std::vector<std::string> vars;
  uint32_t status = 0;
  std::string capabilities;
  uint32_t max_frame_size = 0;
};

// One message of a NOTIFY to build: name and the tag that names its SET-VAR.
struct Msg {
  std::string name;  // "now" (done at once), "wait" (pending), anything else: unclaimed
  std::string tag;
};

Bytes hello_frame(const spop::HelloOptions& options = {});
Bytes notify_frame(uint64_t stream_id, uint64_t frame_id, const std::vector<Msg>& messages,
                   uint32_t flags = spop::flag_fin, spop::FrameType type = spop::FrameType::notify);
Bytes notify_payload(const std::vector<Msg>& messages);
Bytes raw_frame(spop::FrameType type, uint32_t flags, uint64_t stream_id, uint64_t frame_id,
                std::span<const uint8_t> payload);
Bytes haproxy_disconnect_frame(spop::Status status = spop::Status::normal);

class FakePlugins final : public EngineEvents {
 public:
  uint32_t dispatch(const spop::NotifyDecoder& notify, host::NotifyCall& call,
                    uint32_t action_limit) override;
  void finish(host::NotifyCall& call, spop::AckWriter& ack) override;
  void abandon(host::NotifyCall& call) override;
  void arm_timer(TimePoint at) override { armed = at; }
  bool adopt(host::NotifyCall& call, TimePoint deadline) override;

  // Completes every pending message of NOTIFY sid/fid; returns the call to hand to
  // Engine::completed(), or nullptr if no such NOTIFY is pending.
  host::NotifyCall* complete(uint64_t stream_id, uint64_t frame_id);
  size_t pending_calls() const { return calls_.size(); }

  std::optional<TimePoint> armed;
  size_t dispatched = 0;  // NOTIFYs handed to dispatch()
  size_t abandoned = 0;   // calls abandoned
  size_t adopted = 0;     // calls handed over for a sibling connection (async)
  TimePoint adopted_deadline;

 private:
  struct Message {
    std::string tag;
    bool done = false;
  };
  std::map<host::NotifyCall*, std::vector<Message>> calls_;
};

class EngineHarness {
 public:
  explicit EngineHarness(EngineSettings settings = {});

  // The connection is accepted at now().
  void start();
  // HELLO and its AGENT-HELLO; the sent frames are consumed.
  void handshake(const spop::HelloOptions& options = {});
  // Offers bytes as reads would (as much as read_space() takes each time, while the
  // engine wants to read); returns how many it took.
  size_t feed(std::span<const uint8_t> bytes);
  size_t feed(const Bytes& bytes) { return feed(std::span<const uint8_t>(bytes)); }
  // Moves the clock, firing the armed timer exactly when it falls due.
  void advance(Millis by);
  void complete(uint64_t stream_id, uint64_t frame_id);
  void shutdown();
  // Writes what the engine queued, if the peer reads.
  void pump();

  // Frames sent and not yet taken by a test.
  std::vector<Sent> take_sent();
  Sent expect_one(spop::FrameType type);

  TimePoint now() const { return now_; }
  Engine& engine() { return *engine_; }
  FakePlugins& plugins() { return plugins_; }
  EngineSettings& settings() { return settings_; }
  EngineScratch& scratch() { return scratch_; }

  bool peer_reads = true;
  size_t written_total = 0;  // bytes the peer took

 private:
  EngineSettings settings_;
  EngineScratch scratch_;
  FakePlugins plugins_;
  std::unique_ptr<Engine> engine_;
  TimePoint now_ = TimePoint{} + std::chrono::hours(1);
  Bytes wire_;  // what the peer received, not yet parsed into frames
};

}  // namespace spoa::agent::test
