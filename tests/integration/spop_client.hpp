#pragma once
// A scripted SPOP client for the integration tests: it plays HAProxy's side of the protocol
// (spop.md) over a real socket, frame by frame, built on the codec in server/spop. Every
// read takes a deadline, so no test can hang on a silent server.
//
// Failures of the script (timeout, unexpected frame, connection closed) throw
// std::runtime_error with a message that says what was expected and what came instead;
// gtest reports an exception escaping a test body as a failure with that message.
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "spop/spop.hpp"

namespace spoa::itest {

using Bytes = std::vector<uint8_t>;
using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

// Default deadline for a frame the server must send promptly.
inline constexpr Millis default_timeout{5000};
// How far apart the client reads frames (LEN) before giving up: far above any legal size,
// so that an oversized frame from the server is seen and reported, not refused.
inline constexpr uint32_t client_max_frame = 64u * 1024 * 1024;

// A frame as received, owning its bytes.
struct ReceivedFrame {
  uint8_t raw_type = 0;
  uint32_t flags = 0;
  uint64_t stream_id = 0;
  uint64_t frame_id = 0;
  uint32_t len = 0;  // the LEN field
  Bytes payload;
  Bytes raw;  // the whole frame, LEN included

  spop::FrameType type() const { return static_cast<spop::FrameType>(raw_type); }
  std::string describe() const;
};

// A typed value that owns its bytes (spop::Value only views).
struct OwnedValue {
  spop::DataType type = spop::DataType::null;
  uint64_t integer = 0;
  std::string bytes;

  OwnedValue() = default;
  explicit OwnedValue(const spop::Value& v)
      : type(v.type), integer(v.integer), bytes(v.bytes.data(), v.bytes.size()) {}
  spop::Value view() const { return spop::Value{type, integer, bytes}; }
  bool operator==(const OwnedValue& other) const { return view() == other.view(); }
  std::string describe() const;
};

struct OwnedAction {
  spop::ActionType type = spop::ActionType::set_var;
  spop::Scope scope = spop::Scope::txn;
  std::string name;
  OwnedValue value;
  std::string describe() const;
};

struct Ack {
  uint64_t stream_id = 0;
  uint64_t frame_id = 0;
  uint32_t flags = 0;
  uint32_t len = 0;
  std::vector<OwnedAction> actions;
  Bytes raw;

  // The action setting `name`, or nullptr.
  const OwnedAction* find(std::string_view name) const;
  std::string describe() const;
};

struct AgentHelloInfo {
  uint32_t flags = 0;
  uint64_t stream_id = 0;
  uint64_t frame_id = 0;
  bool has_version = false;
  std::string version;
  bool has_max_frame_size = false;
  uint32_t max_frame_size = 0;
  bool has_capabilities = false;
  std::string capabilities;
};

struct DisconnectInfo {
  uint32_t status_code = 0;
  std::string message;
};

// One argument / message of a NOTIFY to build.
struct ArgSpec {
  std::string name;
  spop::Value value;  // views: the caller keeps the bytes alive until the send
};
struct MessageSpec {
  std::string name;
  std::vector<ArgSpec> args;
};

// Builds the payload of a NOTIFY (the list of messages, spop.md §4).
Bytes notify_payload(const std::vector<MessageSpec>& messages);
// Any frame, bad ones included (spop::encode_frame).
Bytes make_frame(spop::FrameType type, uint32_t flags, uint64_t stream_id, uint64_t frame_id,
                 std::span<const uint8_t> payload);
// A frame with a raw type byte (unknown types).
Bytes make_frame_raw_type(uint8_t type, uint32_t flags, uint64_t stream_id, uint64_t frame_id,
                          std::span<const uint8_t> payload);
Bytes hello_frame(const spop::HelloOptions& options);
// A KV item (name + typed value), to craft HELLO payloads by hand.
void append_kv(Bytes& out, std::string_view key, const spop::Value& value);

std::span<const uint8_t> as_bytes(std::string_view s);

class SpopClient {
 public:
  enum class ReadStatus { frame, timeout, closed };
  struct ReadResult {
    ReadStatus status = ReadStatus::timeout;
    ReceivedFrame frame;
    std::string error;  // for closed: "EOF" or the errno text (e.g. connection reset)
  };

  static SpopClient connect_tcp(const std::string& host, uint16_t port,
                                Millis timeout = default_timeout);
  static SpopClient connect_unix(const std::string& path, Millis timeout = default_timeout);

  SpopClient(SpopClient&& other) noexcept;
  SpopClient& operator=(SpopClient&& other) noexcept;
  SpopClient(const SpopClient&) = delete;
  SpopClient& operator=(const SpopClient&) = delete;
  ~SpopClient();

  int fd() const { return fd_; }

  // Writes all bytes (bounded by timeout); throws if the peer is gone.
  void send_raw(std::span<const uint8_t> bytes, Millis timeout = default_timeout);
  // false instead of a throw when the peer is gone (RST / EPIPE).
  bool try_send_raw(std::span<const uint8_t> bytes, Millis timeout = default_timeout);

  void send_hello(const spop::HelloOptions& options = {});
  // HELLO, then expects the AGENT-HELLO; remembers its max-frame-size.
  AgentHelloInfo handshake(const spop::HelloOptions& options = {},
                           Millis timeout = default_timeout);
  void send_notify(uint64_t stream_id, uint64_t frame_id, const std::vector<MessageSpec>& messages,
                   uint32_t flags = spop::flag_fin);
  void send_frame(spop::FrameType type, uint32_t flags, uint64_t stream_id, uint64_t frame_id,
                  std::span<const uint8_t> payload);
  void send_haproxy_disconnect(spop::Status status, std::string_view message);

  // Next frame, or timeout / closed. Never throws for those.
  ReadResult read_frame(Millis timeout = default_timeout);
  // Next frame; throws on timeout or close.
  ReceivedFrame expect_frame(Millis timeout = default_timeout, std::string_view what = "a frame");
  AgentHelloInfo expect_agent_hello(Millis timeout = default_timeout);
  // Next frame must be an ACK (decoded strictly).
  Ack expect_ack(Millis timeout = default_timeout);
  // Next frame must be an AGENT-DISCONNECT; returns its content.
  DisconnectInfo expect_disconnect(Millis timeout = default_timeout);
  // The peer must close (EOF or RST) within timeout with no further frame; a frame or a
  // timeout throws.
  void expect_closed(Millis timeout = default_timeout);
  // Nothing at all may arrive for `quiet` (no frame, no close); throws otherwise.
  void expect_silence(Millis quiet);

  // Negotiated size from the last handshake (0 before).
  uint32_t negotiated_max_frame_size() const { return negotiated_; }

  // Close with an RST (SO_LINGER 0).
  void reset();
  void close();

 private:
  explicit SpopClient(int fd) : fd_(fd) {}
  // Reads what is available into buffer_, waiting until deadline. false on timeout;
  // sets closed_ on EOF/error.
  bool fill(Clock::time_point deadline);

  int fd_ = -1;
  Bytes buffer_;
  bool closed_ = false;
  std::string close_reason_;
  uint32_t negotiated_ = 0;
};

}  // namespace spoa::itest
