#include "spop_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace spoa::itest {

namespace {

std::string errno_text(int error) {
  return std::strerror(error);
}

[[noreturn]] void fail(const std::string& message) {
  throw std::runtime_error(message);
}

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now()).count();
  if (left <= 0) return 0;
  return left > std::numeric_limits<int>::max() ? std::numeric_limits<int>::max()
                                                : static_cast<int>(left);
}

void set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL, 0);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    fail("fcntl(O_NONBLOCK): " + errno_text(errno));
  }
}

// Non-blocking connect bounded by timeout.
void connect_with_timeout(int fd, const sockaddr* address, socklen_t size, Millis timeout,
                          const std::string& where) {
  set_nonblocking(fd);
  if (::connect(fd, address, size) == 0) return;
  if (errno != EINPROGRESS && errno != EAGAIN) {
    const int error = errno;
    ::close(fd);
    fail("connect to " + where + ": " + errno_text(error));
  }
  pollfd p{fd, POLLOUT, 0};
  const int ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (ready <= 0) {
    ::close(fd);
    fail("connect to " + where + ": timed out after " + std::to_string(timeout.count()) + " ms");
  }
  int error = 0;
  socklen_t length = sizeof error;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
  if (error != 0) {
    ::close(fd);
    fail("connect to " + where + ": " + errno_text(error));
  }
}

std::string hex(std::span<const uint8_t> bytes, size_t limit = 64) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size() && i < limit; ++i) {
    if (i != 0) out += ' ';
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 15];
  }
  if (bytes.size() > limit) out += " ... (" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

std::string type_name(uint8_t type) {
  const auto known = static_cast<spop::FrameType>(type);
  return spop::is_known(known) ? std::string(spop::name_of(known)) : "type " + std::to_string(type);
}

DisconnectInfo decode_disconnect_frame(const ReceivedFrame& frame) {
  spop::Disconnect d;
  if (const spop::Error e = spop::decode_disconnect(frame.payload, d); e != spop::Error::none) {
    fail("undecodable AGENT-DISCONNECT (" + std::string(spop::describe(e)) +
         "): " + frame.describe());
  }
  return {d.status_code, std::string(d.message)};
}

}  // namespace

// ---------------------------------------------------------------------------------------

std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string ReceivedFrame::describe() const {
  std::ostringstream out;
  out << type_name(raw_type) << " LEN=" << len << " flags=" << flags << " sid=" << stream_id
      << " fid=" << frame_id;
  if (raw_type == static_cast<uint8_t>(spop::FrameType::agent_disconnect)) {
    spop::Disconnect d;
    if (spop::decode_disconnect(payload, d) == spop::Error::none) {
      out << " status=" << d.status_code << " message=\"" << d.message << "\"";
    }
  }
  out << " [" << hex(raw) << "]";
  return out.str();
}

std::string OwnedValue::describe() const {
  std::ostringstream out;
  out << spop::name_of(type);
  switch (type) {
    case spop::DataType::null:
      break;
    case spop::DataType::boolean:
      out << '(' << (integer != 0 ? "true" : "false") << ')';
      break;
    case spop::DataType::int32:
    case spop::DataType::int64:
      out << '(' << static_cast<int64_t>(integer) << ')';
      break;
    case spop::DataType::uint32:
    case spop::DataType::uint64:
      out << '(' << integer << ')';
      break;
    default:
      out << '(' << hex(as_bytes(bytes), 32) << ')';
      break;
  }
  return out.str();
}

std::string OwnedAction::describe() const {
  std::ostringstream out;
  out << (type == spop::ActionType::set_var ? "set-var " : "unset-var ") << static_cast<int>(scope)
      << ':' << name;
  if (type == spop::ActionType::set_var) out << '=' << value.describe();
  return out.str();
}

const OwnedAction* Ack::find(std::string_view name) const {
  for (const auto& action : actions) {
    if (action.name == name) return &action;
  }
  return nullptr;
}

std::string Ack::describe() const {
  std::ostringstream out;
  out << "ACK sid=" << stream_id << " fid=" << frame_id << " LEN=" << len << " {";
  for (size_t i = 0; i < actions.size(); ++i)
    out << (i ? ", " : "") << actions[i].describe();
  out << '}';
  return out.str();
}

Bytes notify_payload(const std::vector<MessageSpec>& messages) {
  size_t size = 64;
  for (const auto& m : messages) {
    size += m.name.size() + 16;
    for (const auto& a : m.args)
      size += a.name.size() + a.value.bytes.size() + 32;
  }
  Bytes buffer(size);
  spop::NotifyWriter writer(buffer, 1, 1);
  for (const auto& m : messages) {
    if (m.args.size() > 255) fail("notify_payload: more than 255 arguments");
    if (!writer.add_message(m.name, static_cast<uint8_t>(m.args.size()))) {
      fail("notify_payload: cannot add message " + m.name);
    }
    for (const auto& a : m.args) {
      if (!writer.add_arg(a.name, a.value)) fail("notify_payload: cannot add argument " + a.name);
    }
  }
  const spop::EncodeResult result = writer.finish();
  if (result.error != spop::Error::none) {
    fail("notify_payload: " + std::string(spop::describe(result.error)));
  }
  const spop::FrameResult frame =
      spop::decode_frame(std::span<const uint8_t>(buffer.data(), result.size), client_max_frame);
  if (frame.error != spop::Error::none) fail("notify_payload: cannot re-read the frame");
  return Bytes(frame.frame.payload.begin(), frame.frame.payload.end());
}

Bytes make_frame(spop::FrameType type, uint32_t flags, uint64_t stream_id, uint64_t frame_id,
                 std::span<const uint8_t> payload) {
  Bytes out(spop::max_frame_header_size + payload.size());
  const spop::EncodeResult r = spop::encode_frame(out, type, flags, stream_id, frame_id, payload);
  if (r.error != spop::Error::none) fail("make_frame: " + std::string(spop::describe(r.error)));
  out.resize(r.size);
  return out;
}

Bytes make_frame_raw_type(uint8_t type, uint32_t flags, uint64_t stream_id, uint64_t frame_id,
                          std::span<const uint8_t> payload) {
  Bytes out = make_frame(spop::FrameType::unset, flags, stream_id, frame_id, payload);
  out[4] = type;
  return out;
}

Bytes hello_frame(const spop::HelloOptions& options) {
  Bytes out(1024);
  const spop::EncodeResult r = spop::encode_haproxy_hello(out, options);
  if (r.error != spop::Error::none) fail("hello_frame: " + std::string(spop::describe(r.error)));
  out.resize(r.size);
  return out;
}

void append_kv(Bytes& out, std::string_view key, const spop::Value& value) {
  Bytes item(spop::name_size(key) + spop::encoded_size(value));
  spop::Writer w(item);
  w.name(key);
  w.value(value);
  out.insert(out.end(), item.begin(), item.begin() + static_cast<std::ptrdiff_t>(w.size()));
}

// ---------------------------------------------------------------------------------------

SpopClient SpopClient::connect_tcp(const std::string& host, uint16_t port, Millis timeout) {
  const std::string where = host + ":" + std::to_string(port);
  sockaddr_storage storage{};
  socklen_t size = 0;
  int family = AF_INET;
  if (host.find(':') != std::string::npos) {
    family = AF_INET6;
    auto* a = reinterpret_cast<sockaddr_in6*>(&storage);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    if (::inet_pton(AF_INET6, host.c_str(), &a->sin6_addr) != 1) fail("bad address " + host);
    size = sizeof(sockaddr_in6);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&storage);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    if (::inet_pton(AF_INET, host.c_str(), &a->sin_addr) != 1) fail("bad address " + host);
    size = sizeof(sockaddr_in);
  }
  const int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket: " + errno_text(errno));
  connect_with_timeout(fd, reinterpret_cast<sockaddr*>(&storage), size, timeout, where);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return SpopClient(fd);
}

SpopClient SpopClient::connect_unix(const std::string& path, Millis timeout) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) fail("unix socket path too long: " + path);
  std::memcpy(address.sun_path, path.data(), path.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket: " + errno_text(errno));
  connect_with_timeout(fd, reinterpret_cast<sockaddr*>(&address), sizeof address, timeout,
                       "unix:" + path);
  return SpopClient(fd);
}

SpopClient::SpopClient(SpopClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      buffer_(std::move(other.buffer_)),
      closed_(other.closed_),
      close_reason_(std::move(other.close_reason_)),
      negotiated_(other.negotiated_) {}

SpopClient& SpopClient::operator=(SpopClient&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    buffer_ = std::move(other.buffer_);
    closed_ = other.closed_;
    close_reason_ = std::move(other.close_reason_);
    negotiated_ = other.negotiated_;
  }
  return *this;
}

SpopClient::~SpopClient() {
  close();
}

void SpopClient::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

void SpopClient::reset() {
  if (fd_ < 0) return;
  const linger l{1, 0};
  ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  close();
}

bool SpopClient::try_send_raw(std::span<const uint8_t> bytes, Millis timeout) {
  if (fd_ < 0) fail("send on a closed client");
  const auto deadline = Clock::now() + timeout;
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      const int left = remaining_ms(deadline);
      if (left == 0 || ::poll(&p, 1, left) <= 0) {
        fail("send: timed out with " + std::to_string(bytes.size() - sent) + " bytes unsent");
      }
      continue;
    }
    return false;  // EPIPE, ECONNRESET: the peer is gone
  }
  return true;
}

void SpopClient::send_raw(std::span<const uint8_t> bytes, Millis timeout) {
  if (!try_send_raw(bytes, timeout)) fail("send: the server closed the connection");
}

void SpopClient::send_hello(const spop::HelloOptions& options) {
  send_raw(hello_frame(options));
}

AgentHelloInfo SpopClient::handshake(const spop::HelloOptions& options, Millis timeout) {
  send_hello(options);
  AgentHelloInfo hello = expect_agent_hello(timeout);
  negotiated_ = hello.max_frame_size;
  return hello;
}

void SpopClient::send_notify(uint64_t stream_id, uint64_t frame_id,
                             const std::vector<MessageSpec>& messages, uint32_t flags) {
  const Bytes payload = notify_payload(messages);
  send_raw(make_frame(spop::FrameType::notify, flags, stream_id, frame_id, payload));
}

void SpopClient::send_frame(spop::FrameType type, uint32_t flags, uint64_t stream_id,
                            uint64_t frame_id, std::span<const uint8_t> payload) {
  send_raw(make_frame(type, flags, stream_id, frame_id, payload));
}

void SpopClient::send_haproxy_disconnect(spop::Status status, std::string_view message) {
  Bytes out(600);
  const spop::EncodeResult r = spop::encode_haproxy_disconnect(out, status, message);
  if (r.error != spop::Error::none) fail("encode_haproxy_disconnect failed");
  out.resize(r.size);
  send_raw(out);
}

bool SpopClient::fill(Clock::time_point deadline) {
  if (closed_) return true;
  for (;;) {
    uint8_t chunk[65536];
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) {
      buffer_.insert(buffer_.end(), chunk, chunk + n);
      return true;
    }
    if (n == 0) {
      closed_ = true;
      close_reason_ = "EOF";
      return true;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      closed_ = true;
      close_reason_ = errno_text(errno);
      return true;
    }
    const int left = remaining_ms(deadline);
    if (left == 0) return false;
    pollfd p{fd_, POLLIN, 0};
    const int ready = ::poll(&p, 1, left);
    if (ready == 0) return false;
    if (ready < 0 && errno != EINTR) fail("poll: " + errno_text(errno));
  }
}

SpopClient::ReadResult SpopClient::read_frame(Millis timeout) {
  if (fd_ < 0) fail("read on a closed client");
  const auto deadline = Clock::now() + timeout;
  ReadResult result;
  for (;;) {
    if (buffer_.size() >= 4) {
      const spop::FrameResult r = spop::decode_frame(buffer_, client_max_frame);
      if (r.error == spop::Error::none) {
        ReceivedFrame& f = result.frame;
        f.raw_type = r.frame.raw_type;
        f.flags = r.frame.flags;
        f.stream_id = r.frame.stream_id;
        f.frame_id = r.frame.frame_id;
        f.len = static_cast<uint32_t>(r.consumed - 4);
        f.payload.assign(r.frame.payload.begin(), r.frame.payload.end());
        f.raw.assign(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(r.consumed));
        buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(r.consumed));
        result.status = ReadStatus::frame;
        return result;
      }
      if (r.error != spop::Error::need_more) {
        fail("the server sent an undecodable frame (" + std::string(spop::describe(r.error)) +
             "): [" + hex(buffer_) + "]");
      }
    }
    if (closed_) {
      if (!buffer_.empty()) {
        fail("connection closed (" + close_reason_ + ") in the middle of a frame: [" +
             hex(buffer_) + "]");
      }
      result.status = ReadStatus::closed;
      result.error = close_reason_;
      return result;
    }
    if (!fill(deadline)) {
      result.status = ReadStatus::timeout;
      return result;
    }
  }
}

ReceivedFrame SpopClient::expect_frame(Millis timeout, std::string_view what) {
  ReadResult r = read_frame(timeout);
  switch (r.status) {
    case ReadStatus::frame:
      return std::move(r.frame);
    case ReadStatus::timeout:
      fail("expected " + std::string(what) + " within " + std::to_string(timeout.count()) +
           " ms, got nothing");
    case ReadStatus::closed:
      fail("expected " + std::string(what) + ", but the server closed the connection (" + r.error +
           ")");
  }
  fail("unreachable");
}

AgentHelloInfo SpopClient::expect_agent_hello(Millis timeout) {
  const ReceivedFrame f = expect_frame(timeout, "AGENT-HELLO");
  if (f.type() != spop::FrameType::agent_hello) fail("expected AGENT-HELLO, got " + f.describe());
  spop::AgentHello decoded;
  if (const spop::Error e = spop::decode_agent_hello(f.payload, decoded); e != spop::Error::none) {
    fail("undecodable AGENT-HELLO (" + std::string(spop::describe(e)) + "): " + f.describe());
  }
  AgentHelloInfo info;
  info.flags = f.flags;
  info.stream_id = f.stream_id;
  info.frame_id = f.frame_id;
  info.has_version = decoded.has_version;
  info.version = decoded.version;
  info.has_max_frame_size = decoded.has_max_frame_size;
  info.max_frame_size = decoded.max_frame_size;
  info.has_capabilities = decoded.has_capabilities;
  info.capabilities = decoded.capabilities;
  return info;
}

Ack SpopClient::expect_ack(Millis timeout) {
  ReceivedFrame f = expect_frame(timeout, "an ACK");
  if (f.type() != spop::FrameType::ack) fail("expected an ACK, got " + f.describe());
  std::vector<spop::Action> actions;
  if (const spop::Error e = spop::decode_ack(f.payload, actions); e != spop::Error::none) {
    fail("undecodable ACK (" + std::string(spop::describe(e)) + "): " + f.describe());
  }
  Ack ack;
  ack.stream_id = f.stream_id;
  ack.frame_id = f.frame_id;
  ack.flags = f.flags;
  ack.len = f.len;
  for (const spop::Action& a : actions) {
    ack.actions.push_back(OwnedAction{a.type, a.scope, std::string(a.name), OwnedValue(a.value)});
  }
  ack.raw = std::move(f.raw);
  return ack;
}

DisconnectInfo SpopClient::expect_disconnect(Millis timeout) {
  const ReceivedFrame f = expect_frame(timeout, "AGENT-DISCONNECT");
  if (f.type() != spop::FrameType::agent_disconnect) {
    fail("expected AGENT-DISCONNECT, got " + f.describe());
  }
  if (f.stream_id != 0 || f.frame_id != 0 || (f.flags & spop::flag_fin) == 0) {
    fail("AGENT-DISCONNECT must have sid = fid = 0 and FIN: " + f.describe());
  }
  return decode_disconnect_frame(f);
}

void SpopClient::expect_closed(Millis timeout) {
  ReadResult r = read_frame(timeout);
  switch (r.status) {
    case ReadStatus::closed:
      return;
    case ReadStatus::timeout:
      fail("expected the server to close the connection within " + std::to_string(timeout.count()) +
           " ms; it is still open");
    case ReadStatus::frame:
      fail("expected the server to close the connection, got " + r.frame.describe());
  }
}

void SpopClient::expect_silence(Millis quiet) {
  ReadResult r = read_frame(quiet);
  switch (r.status) {
    case ReadStatus::timeout:
      return;
    case ReadStatus::closed:
      fail("expected " + std::to_string(quiet.count()) +
           " ms of silence, but the server closed the connection (" + r.error + ")");
    case ReadStatus::frame:
      fail("expected " + std::to_string(quiet.count()) + " ms of silence, got " +
           r.frame.describe());
  }
}

}  // namespace spoa::itest
