#include "client.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "proc_stat.hpp"
#include "spop/disconnect.hpp"
#include "spop/frame.hpp"
#include "spop/hello.hpp"
#include "spop/list.hpp"

namespace bench {

namespace {

constexpr size_t max_error_samples = 20;
constexpr int64_t tick_ns = 20'000'000;  // timeout scan and phase checks

// Growable byte buffer that does not touch its memory up front (10,000 idle connections
// must not cost the client 10,000 x 64 KiB of resident memory).
struct Buffer {
  std::unique_ptr<uint8_t[]> data;
  size_t capacity = 0;
  size_t begin = 0;  // [begin, end) holds data
  size_t end = 0;

  size_t size() const noexcept { return end - begin; }
  uint8_t* tail() noexcept { return data.get() + end; }
  size_t room() const noexcept { return capacity - end; }

  // Guarantees room() >= n, moving the data to the front first if that is enough.
  void make_room(size_t n) {
    if (room() >= n) return;
    if (begin != 0) {
      if (size() != 0) std::memmove(data.get(), data.get() + begin, size());
      end -= begin;
      begin = 0;
      if (room() >= n) return;
    }
    const size_t wanted = std::max(end + n, capacity * 2);
    std::unique_ptr<uint8_t[]> bigger(new uint8_t[wanted]);
    if (end != 0) std::memcpy(bigger.get(), data.get(), end);
    data = std::move(bigger);
    capacity = wanted;
  }
  void consumed_all_check() noexcept {
    if (begin == end) begin = end = 0;
  }
};

std::string type_name(uint8_t raw) {
  return std::string(spop::name_of(static_cast<spop::FrameType>(raw)));
}

}  // namespace

struct ClientThread::Conn {
  enum class State { pending, connecting, hello, running, closing, closed, failed };

  struct Slot {
    uint64_t stream_id = 0;
    uint64_t frame_id = 0;
    int64_t sent_ns = 0;
    bool busy = false;
    bool measured = false;
  };

  unsigned id = 0;
  int fd = -1;
  State state = State::pending;
  uint32_t events = 0;  // registered with epoll
  Buffer in;
  Buffer out;
  uint32_t max_frame_in = 0;  // LEN limit for what the agent sends
  int64_t deadline_ns = 0;    // connect, HELLO, DISCONNECT reply
  int64_t started_ns = 0;     // health check: connect() time
  bool check_measured = false;
  // In-flight NOTIFYs by stream-id: slot = sid & mask, with at least 2x as many slots as
  // NOTIFYs in flight. A busy slot (an old NOTIFY still unanswered while later ones came
  // back) makes us skip that sid: HAProxy 3.x sids have gaps too (spop.md §6).
  std::vector<Slot> slots;
  uint64_t mask = 0;
  uint64_t next_stream_id = 0;  // the first NOTIFY is sid 0, like HAProxy <= 3.0's first stream
  unsigned inflight = 0;
};

struct ClientThread::Impl {
  Impl(Shared& s, unsigned i, ThreadResult& r)
      : shared(s),
        options(s.options),
        index(i),
        result(r),
        verifier(s.workload, s.options.verify, s.options.scope),
        timeout_ns(static_cast<int64_t>(s.options.timeout_s * 1e9)),
        notify_len(s.workload.max_notify_len()) {}

  Shared& shared;
  const Options& options;
  unsigned index;
  ThreadResult& result;
  AckVerifier verifier;
  int64_t timeout_ns;
  uint32_t notify_len;
  int epoll_fd = -1;
  std::vector<std::unique_ptr<Conn>> conns;
  size_t next_pending = 0;  // conns[next_pending..] not connected yet
  unsigned connecting = 0;  // in connecting or hello state

  bool ready = false;
  bool started = false;
  bool sending = false;
  bool window_done = false;
  int64_t measure_start_ns = 0;
  int64_t window_end_ns = 0;
  int64_t next_tick_ns = 0;

  Mode mode() const noexcept { return options.mode; }

  // ---- errors --------------------------------------------------------------------------

  void error(Conn& c, const std::string& kind, const std::string& detail) {
    ++result.errors;
    ++result.error_kinds[kind];
    if (result.error_samples.size() < max_error_samples)
      result.error_samples.push_back("connection #" + std::to_string(c.id) + ": " + detail);
  }

  // Records the error and drops the connection (a connection that misbehaved once is
  // not trusted again).
  void fail(Conn& c, const std::string& kind, const std::string& detail) {
    error(c, kind, detail);
    close_conn(c, Conn::State::failed, true);
  }

  void close_conn(Conn& c, Conn::State final_state, bool reset) {
    if (c.fd >= 0) {
      if (reset) {
        const linger l{1, 0};  // RST, as HAProxy 3.x does; no TIME_WAIT pile-up
        ::setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
      }
      ::close(c.fd);  // also leaves the epoll set
      c.fd = -1;
    }
    if (c.state == Conn::State::connecting || c.state == Conn::State::hello) --connecting;
    c.state = final_state;
    c.events = 0;
    c.inflight = 0;
    for (Conn::Slot& s : c.slots)
      s.busy = false;
    c.in.begin = c.in.end = 0;
    c.out.begin = c.out.end = 0;
  }

  // ---- epoll and writes ----------------------------------------------------------------

  void watch(Conn& c, uint32_t events) {
    if (c.events == events) return;
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = &c;
    const int op = c.events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    ::epoll_ctl(epoll_fd, op, c.fd, &ev);
    c.events = events;
  }

  // Sends what is queued; false if the connection failed.
  bool flush(Conn& c) {
    while (c.out.size() != 0) {
      const ssize_t n = ::send(c.fd, c.out.data.get() + c.out.begin, c.out.size(), MSG_NOSIGNAL);
      if (n > 0) {
        c.out.begin += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        watch(c, EPOLLIN | EPOLLOUT);
        return true;
      }
      const int e = errno;
      if (c.state == Conn::State::closing) {
        ++result.closed_without_reply;
        close_conn(c, Conn::State::closed, false);
      } else {
        fail(c, "write error", std::string("write: ") + std::strerror(e));
      }
      return false;
    }
    c.out.begin = c.out.end = 0;
    watch(c, EPOLLIN);
    return true;
  }

  // ---- connection setup ----------------------------------------------------------------

  void start_connect(Conn& c, int64_t now) {
    const int fd = bench::start_connect(shared.address);
    c.started_ns = now;
    if (fd < 0) {
      c.state = Conn::State::failed;
      error(c, "connect error", std::string("connect: ") + std::strerror(-fd));
      return;
    }
    c.fd = fd;
    c.state = Conn::State::connecting;
    c.deadline_ns = now + timeout_ns;
    c.max_frame_in = options.max_frame_size;
    c.events = 0;
    ++connecting;
    watch(c, EPOLLOUT);
  }

  void start_pending(int64_t now) {
    while (next_pending < conns.size() && connecting < options.max_connecting)
      start_connect(*conns[next_pending++], now);
  }

  void on_connected(Conn& c, int64_t now) {
    int err = 0;
    socklen_t len = sizeof(err);
    ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      fail(c, "connect error", std::string("connect: ") + std::strerror(err));
      return;
    }
    spop::HelloOptions hello;
    hello.max_frame_size = options.max_frame_size;
    hello.capabilities = options.capabilities;
    hello.healthcheck = mode() == Mode::healthcheck;
    std::string engine_id;
    if (!hello.healthcheck) {
      engine_id = "spoa-bench-" + std::to_string(::getpid()) + "-" + std::to_string(index);
      hello.engine_id = engine_id;
    }
    c.out.make_room(512);
    const spop::EncodeResult r = spop::encode_haproxy_hello({c.out.tail(), c.out.room()}, hello);
    c.out.end += r.size;
    c.state = Conn::State::hello;
    c.deadline_ns = now + timeout_ns;
    flush(c);
  }

  void on_agent_hello(Conn& c, const spop::Frame& f, int64_t now) {
    const std::string where = "AGENT-HELLO: ";
    if (spop::check_ids(f) != spop::Error::none || f.flags != spop::flag_fin) {
      fail(c, "bad AGENT-HELLO",
           where + "sid " + std::to_string(f.stream_id) + " fid " + std::to_string(f.frame_id) +
               " flags " + std::to_string(f.flags) + " (want 0, 0, FIN)");
      return;
    }
    spop::AgentHello h;
    if (const spop::Error e = spop::decode_agent_hello(f.payload, h); e != spop::Error::none) {
      fail(c, "bad AGENT-HELLO", where + std::string(spop::describe(e)));
      return;
    }
    if (!h.has_version || h.version != "2.0") {
      fail(c, "bad AGENT-HELLO", where + "version '" + std::string(h.version) + "', want 2.0");
      return;
    }
    if (!h.has_max_frame_size || h.max_frame_size < spop::min_max_frame_size ||
        h.max_frame_size > options.max_frame_size) {
      fail(c, "bad AGENT-HELLO",
           where + "max-frame-size " + std::to_string(h.max_frame_size) + " outside [256, " +
               std::to_string(options.max_frame_size) + "]");
      return;
    }
    if (!h.has_capabilities) {
      fail(c, "bad AGENT-HELLO", where + "no capabilities key (HAProxy 3.1+ checks fail)");
      return;
    }
    if (result.agent_version.empty()) {
      result.agent_version = std::string(h.version);
      result.agent_capabilities = std::string(h.capabilities);
      result.agent_max_frame_size = h.max_frame_size;
    }
    if (mode() == Mode::healthcheck) {
      if (c.check_measured) {
        result.latency.record(static_cast<uint64_t>(now - c.started_ns));
        ++result.measured;
        result.last_measured_ns = now;
      }
      ++result.answered;
      ++result.connections_up;
      close_conn(c, Conn::State::closed, true);  // HAProxy 3.x resets right after the HELLO
      if (sending) start_check(c, now);
      return;
    }
    const bool pipelining = spop::list_contains(h.capabilities, "pipelining") &&
                            spop::list_contains(options.capabilities, "pipelining");
    if (options.inflight > 1 && !pipelining) {
      fail(c, "setup",
           where + "no pipelining negotiated (agent capabilities '" + std::string(h.capabilities) +
               "'): use --inflight 1");
      return;
    }
    if (notify_len > h.max_frame_size) {
      fail(c, "setup",
           "the NOTIFY (LEN " + std::to_string(notify_len) +
               ") exceeds the negotiated max-frame-size " + std::to_string(h.max_frame_size));
      return;
    }
    c.max_frame_in = h.max_frame_size;
    c.state = Conn::State::running;
    --connecting;
    ++result.connections_up;
    start_pending(now);
    refill(c, now_ns());
  }

  // ---- health checks -------------------------------------------------------------------

  // One more check on this slot, if the budget allows.
  void start_check(Conn& c, int64_t now) {
    c.check_measured = now >= measure_start_ns;
    if (c.check_measured && options.count != 0 && claim(1) == 0) {
      sending = false;
      return;
    }
    start_connect(c, now);
  }

  // ---- NOTIFY / ACK --------------------------------------------------------------------

  // Takes up to `want` from the --count budget.
  unsigned claim(unsigned want) {
    int64_t left = shared.count_left.load(std::memory_order_relaxed);
    while (left > 0) {
      const int64_t take = std::min<int64_t>(left, want);
      if (shared.count_left.compare_exchange_weak(left, left - take, std::memory_order_relaxed))
        return static_cast<unsigned>(take);
    }
    return 0;
  }

  // Tops the connection up to --inflight NOTIFYs, all in one write.
  void refill(Conn& c, int64_t now) {
    if (!sending || c.state != Conn::State::running || c.inflight >= options.inflight) return;
    if (now >= window_end_ns) {
      sending = false;
      return;
    }
    unsigned want = options.inflight - c.inflight;
    const bool measured = now >= measure_start_ns;
    if (measured && options.count != 0) {
      want = claim(want);
      if (want == 0) {
        sending = false;
        return;
      }
    }
    const std::span<const uint8_t> payload = shared.workload.notify_payload;
    c.out.make_room(size_t{want} * (spop::max_frame_header_size + payload.size()));
    for (unsigned k = 0; k < want; ++k) {
      uint64_t sid = c.next_stream_id;
      while (c.slots[sid & c.mask].busy)
        ++sid;
      c.next_stream_id = sid + 1;
      Conn::Slot& s = c.slots[sid & c.mask];
      s.stream_id = sid;
      // Frame ids 1-4 rotate, so that an agent echoing the wrong one is caught.
      s.frame_id = 1 + (sid & 3);
      s.sent_ns = now;
      s.busy = true;
      s.measured = measured;
      c.out.end += write_notify(c.out.tail(), s.stream_id, s.frame_id, payload);
    }
    c.inflight += want;
    result.sent += want;
    flush(c);
  }

  void on_ack(Conn& c, const spop::Frame& f, int64_t now) {
    const std::string ids =
        "sid " + std::to_string(f.stream_id) + " fid " + std::to_string(f.frame_id);
    if (c.state != Conn::State::running) {
      fail(c, "unexpected frame", "ACK " + ids + " after our DISCONNECT");
      return;
    }
    if (f.frame_id == 0) {
      fail(c, "bad ids", "ACK " + ids + ": frame-id 0");
      return;
    }
    if (f.flags != spop::flag_fin) {
      fail(c, "bad flags", "ACK " + ids + ": flags " + std::to_string(f.flags) + ", want FIN only");
      return;
    }
    Conn::Slot& s = c.slots[f.stream_id & c.mask];
    if (!s.busy || s.stream_id != f.stream_id) {
      fail(c, "unknown ids",
           "ACK " + ids + " matches no NOTIFY in flight (" + std::to_string(c.inflight) +
               " in flight, next sid " + std::to_string(c.next_stream_id) + ")");
      return;
    }
    if (s.frame_id != f.frame_id) {
      fail(c, "unknown ids",
           "ACK " + ids + ": that stream's NOTIFY had frame-id " + std::to_string(s.frame_id));
      return;
    }
    std::string why = verifier.check(f.payload);
    if (!why.empty()) {
      fail(c, "bad ACK", "ACK " + ids + ": " + why);
      return;
    }
    s.busy = false;
    --c.inflight;
    ++result.answered;
    if (s.measured) {
      result.latency.record(static_cast<uint64_t>(now - s.sent_ns));
      ++result.measured;
      result.last_measured_ns = now;
    }
  }

  void on_disconnect(Conn& c, const spop::Frame& f) {
    spop::Disconnect d;
    const spop::Error e = spop::decode_disconnect(f.payload, d);
    const std::string what =
        e != spop::Error::none
            ? "undecodable AGENT-DISCONNECT (" + std::string(spop::describe(e)) + ")"
            : "AGENT-DISCONNECT status " + std::to_string(d.status_code) + " '" +
                  std::string(d.message) + "'";
    if (c.state == Conn::State::closing && e == spop::Error::none && d.status_code == 0) {
      ++result.disconnect_replies;
      close_conn(c, Conn::State::closed, false);
      return;
    }
    if (c.state == Conn::State::closing) {
      fail(c, "agent DISCONNECT", what + " in answer to our DISCONNECT 0");
      return;
    }
    fail(c, "agent DISCONNECT",
         what + " with " + std::to_string(c.inflight) + " NOTIFYs in flight");
  }

  // ---- reads ---------------------------------------------------------------------------

  void on_readable(Conn& c) {
    c.in.make_room(c.in.capacity == 0 ? initial_read_buffer()
                                      : std::max<size_t>(c.in.capacity / 4, 1));
    const ssize_t n = ::recv(c.fd, c.in.tail(), c.in.room(), 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      on_closed(c, std::string("read: ") + std::strerror(errno));
      return;
    }
    if (n == 0) {
      on_closed(c, "connection closed by the agent");
      return;
    }
    c.in.end += static_cast<size_t>(n);
    const int64_t now = now_ns();
    while (c.state != Conn::State::failed && c.state != Conn::State::closed) {
      const spop::FrameResult r =
          spop::decode_frame({c.in.data.get() + c.in.begin, c.in.size()}, c.max_frame_in);
      if (r.error == spop::Error::need_more) {
        if (c.in.size() >= 4) {  // the LEN is known: make room for the whole frame
          const uint8_t* p = c.in.data.get() + c.in.begin;
          const size_t len = size_t{p[0]} << 24 | size_t{p[1]} << 16 | size_t{p[2]} << 8 | p[3];
          c.in.make_room(4 + len - c.in.size());
        }
        break;
      }
      if (r.error != spop::Error::none) {
        fail(c, "bad frame", "frame from the agent: " + std::string(spop::describe(r.error)));
        return;
      }
      c.in.begin += r.consumed;
      handle_frame(c, r.frame, now);
    }
    c.in.consumed_all_check();
    if (c.state == Conn::State::running) refill(c, now_ns());
  }

  size_t initial_read_buffer() const noexcept {
    // Idle connections stay small; loaded ones take a whole pipelined burst per read.
    return mode() == Mode::notify ? 64 * 1024 : 4 * 1024;
  }

  void handle_frame(Conn& c, const spop::Frame& f, int64_t now) {
    switch (f.type) {
      case spop::FrameType::ack:
        on_ack(c, f, now);
        return;
      case spop::FrameType::agent_hello:
        if (c.state == Conn::State::hello) {
          on_agent_hello(c, f, now);
        } else {
          fail(c, "unexpected frame", "AGENT-HELLO after the handshake");
        }
        return;
      case spop::FrameType::agent_disconnect:
        on_disconnect(c, f);
        return;
      default:
        if (c.state == Conn::State::hello) {
          fail(c, "unexpected frame",
               std::string("first frame is ") + type_name(f.raw_type) + " (type " +
                   std::to_string(f.raw_type) + "), not AGENT-HELLO");
        } else {
          fail(c, "unexpected frame",
               std::string("unexpected ") + type_name(f.raw_type) + " frame (type " +
                   std::to_string(f.raw_type) + ")");
        }
        return;
    }
  }

  void on_closed(Conn& c, const std::string& why) {
    switch (c.state) {
      case Conn::State::closing:
        ++result.closed_without_reply;
        close_conn(c, Conn::State::closed, false);
        return;
      case Conn::State::hello:
        fail(c, "closed", why + " before its AGENT-HELLO");
        return;
      default:
        fail(c, "closed", why + " with " + std::to_string(c.inflight) + " NOTIFYs in flight");
        return;
    }
  }

  void on_event(Conn& c, uint32_t events, int64_t now) {
    if (c.state == Conn::State::connecting) {
      on_connected(c, now);
      return;
    }
    if ((events & EPOLLOUT) != 0 && !flush(c)) return;
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0 && c.fd >= 0) on_readable(c);
  }

  // ---- phases and timeouts -------------------------------------------------------------

  void begin_disconnect(Conn& c, int64_t now) {
    c.out.make_room(128);
    const spop::EncodeResult r = spop::encode_haproxy_disconnect(
        {c.out.tail(), c.out.room()}, spop::Status::normal, "bench done");
    c.out.end += r.size;
    c.state = Conn::State::closing;
    c.deadline_ns = now + timeout_ns;
    flush(c);
  }

  void check_timeouts(Conn& c, int64_t now) {
    switch (c.state) {
      case Conn::State::connecting:
        if (now > c.deadline_ns) fail(c, "timeout", "connect timed out");
        return;
      case Conn::State::hello:
        if (now > c.deadline_ns) fail(c, "timeout", "no AGENT-HELLO within the timeout");
        return;
      case Conn::State::closing:
        if (now > c.deadline_ns) {
          ++result.closed_without_reply;
          close_conn(c, Conn::State::closed, false);
        }
        return;
      case Conn::State::running: {
        if (c.inflight == 0) return;
        const Conn::Slot* oldest = nullptr;
        for (const Conn::Slot& s : c.slots) {
          if (s.busy && (oldest == nullptr || s.sent_ns < oldest->sent_ns)) oldest = &s;
        }
        if (oldest != nullptr && now - oldest->sent_ns > timeout_ns) {
          fail(c, "timeout",
               "no ACK for NOTIFY sid " + std::to_string(oldest->stream_id) + " fid " +
                   std::to_string(oldest->frame_id) + " after " +
                   std::to_string((now - oldest->sent_ns) / 1'000'000) + " ms (" +
                   std::to_string(c.inflight) + " in flight on this connection, " +
                   std::to_string(c.out.size()) + " bytes unsent)");
        }
        return;
      }
      default:
        return;
    }
  }

  // Returns false once the thread is done.
  bool tick(int64_t now) {
    bool busy = false;  // connects, HELLOs, NOTIFYs or DISCONNECTs in progress
    unsigned live = 0;
    for (auto& cp : conns) {
      Conn& c = *cp;
      check_timeouts(c, now);
      switch (c.state) {
        case Conn::State::connecting:
        case Conn::State::hello:
        case Conn::State::closing:
          busy = true;
          break;
        case Conn::State::running:
          ++live;
          if (c.inflight != 0) busy = true;
          break;
        default:
          break;
      }
    }
    if (mode() != Mode::healthcheck) start_pending(now);

    if (!ready &&
        (mode() == Mode::healthcheck || (next_pending == conns.size() && connecting == 0))) {
      ready = true;
      shared.ready.fetch_add(1);
    }
    if (ready && !started) {
      const int64_t start = shared.start_ns.load();
      if (start == 0) return true;
      started = true;
      measure_start_ns = start + static_cast<int64_t>(options.warmup_s * 1e9);
      window_end_ns = options.count != 0
                          ? INT64_MAX
                          : measure_start_ns + static_cast<int64_t>(options.duration_s * 1e9);
      sending = mode() == Mode::notify || mode() == Mode::healthcheck;
      for (auto& cp : conns) {
        if (mode() == Mode::healthcheck) {
          start_check(*cp, now);
        } else {
          refill(*cp, now);
        }
      }
      return true;
    }
    if (!started) return true;
    if (sending && (now >= window_end_ns || shared.stop.load(std::memory_order_relaxed) ||
                    (mode() == Mode::notify && live == 0) ||
                    (options.count != 0 && now >= measure_start_ns &&
                     shared.count_left.load(std::memory_order_relaxed) <= 0))) {
      sending = false;
    }
    // --idle holds its connections for the whole window; the others end it once the last
    // measured NOTIFY is answered.
    const bool window_over =
        mode() == Mode::idle ? now >= window_end_ns || shared.stop.load(std::memory_order_relaxed)
                             : !sending && !busy;
    if (!window_done && window_over) {
      window_done = true;
      shared.window_done.fetch_add(1);
      for (auto& cp : conns) {
        if (cp->state == Conn::State::running) begin_disconnect(*cp, now);
      }
      return true;
    }
    return !(window_done && !busy);
  }

  void run() {
    epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    const int64_t t0 = now_ns();
    if (mode() != Mode::healthcheck) start_pending(t0);
    std::vector<epoll_event> events(512);
    next_tick_ns = t0;
    for (;;) {
      // Short waits until the start, so that the start is seen at once.
      const int wait_ms = started ? 20 : 1;
      const int n = ::epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), wait_ms);
      const int64_t now = now_ns();
      for (int i = 0; i < n; ++i) {
        auto* c = static_cast<Conn*>(events[static_cast<size_t>(i)].data.ptr);
        if (c->fd >= 0) on_event(*c, events[static_cast<size_t>(i)].events, now);
      }
      if (now >= next_tick_ns || !started) {
        next_tick_ns = now + tick_ns;
        if (!tick(now)) break;
      } else if (!sending && !window_done) {
        if (!tick(now)) break;  // draining: notice the last ACK at once
      }
    }
    for (auto& cp : conns) {
      if (cp->fd >= 0) close_conn(*cp, Conn::State::closed, false);
    }
    ::close(epoll_fd);
  }
};

ClientThread::ClientThread(Shared& shared, unsigned index, std::vector<unsigned> connection_ids)
    : impl_(std::make_unique<Impl>(shared, index, result_)) {
  const unsigned slots = std::bit_ceil(std::max(2u, shared.options.inflight * 2));
  for (const unsigned id : connection_ids) {
    auto c = std::make_unique<Conn>();
    c->id = id;
    if (shared.options.mode == Mode::notify) {
      c->slots.resize(slots);
      c->mask = slots - 1;
    }
    impl_->conns.push_back(std::move(c));
  }
}

ClientThread::~ClientThread() = default;

void ClientThread::run() {
  impl_->run();
  impl_->shared.finished.fetch_add(1);
}

}  // namespace bench
