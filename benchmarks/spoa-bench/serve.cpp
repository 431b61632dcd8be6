#include "serve.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "address.hpp"
#include "proc_stat.hpp"
#include "spop/ack.hpp"
#include "spop/disconnect.hpp"
#include "spop/frame.hpp"
#include "spop/hello.hpp"
#include "spop/list.hpp"

namespace bench {

namespace {

constexpr size_t read_chunk = 64 * 1024;
constexpr size_t max_pending_output = 4 * 1024 * 1024;  // stop reading beyond this

struct Counters {
  uint64_t accepted = 0;
  uint64_t hellos = 0;
  uint64_t healthchecks = 0;
  uint64_t notifies = 0;
  uint64_t disconnects = 0;  // HAPROXY-DISCONNECT received
  uint64_t errors = 0;       // connections we dropped with an AGENT-DISCONNECT
};

struct ServeConn {
  int fd = -1;
  uint32_t events = 0;
  bool running = false;      // HELLO done
  bool close_after = false;  // close once the output is written
  uint32_t max_frame = 0;    // for incoming frames, and our ACKs
  std::vector<uint8_t> in;
  size_t in_begin = 0;
  size_t in_end = 0;
  std::vector<uint8_t> out;
  size_t out_begin = 0;
};

class ServeThread {
 public:
  ServeThread(const Options& options, const Workload& workload, int listen_fd,
              std::atomic<bool>& stop)
      : options_(options), workload_(workload), listen_fd_(listen_fd), stop_(stop) {}

  void run(int64_t end_ns) {
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.ptr = nullptr;  // the listener
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, listen_fd_, &ev);
    std::vector<epoll_event> events(256);
    while (!stop_.load(std::memory_order_relaxed) && now_ns() < end_ns) {
      const int n = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 100);
      for (int i = 0; i < n; ++i) {
        const epoll_event& e = events[static_cast<size_t>(i)];
        if (e.data.ptr == nullptr) {
          accept_all();
          continue;
        }
        auto* c = static_cast<ServeConn*>(e.data.ptr);
        if ((e.events & EPOLLOUT) != 0 && !flush(*c)) continue;
        if ((e.events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0 && c->fd >= 0) on_readable(*c);
      }
      reap();
    }
    for (auto& c : conns_)
      close_conn(*c);
    ::close(epoll_);
  }

  const Counters& counters() const noexcept { return counters_; }

 private:
  void accept_all() {
    for (;;) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or another thread took it
      auto c = std::make_unique<ServeConn>();
      c->fd = fd;
      c->max_frame = options_.max_frame_size;
      c->in.resize(read_chunk);
      ++counters_.accepted;
      watch(*c, EPOLLIN);
      conns_.push_back(std::move(c));
    }
  }

  void watch(ServeConn& c, uint32_t events) {
    if (c.events == events) return;
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = &c;
    ::epoll_ctl(epoll_, c.events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c.fd, &ev);
    c.events = events;
  }

  void close_conn(ServeConn& c) {
    if (c.fd >= 0) ::close(c.fd);
    c.fd = -1;
  }

  // Frees closed connections now and then.
  void reap() {
    if (++reap_tick_ % 64 != 0) return;
    std::erase_if(conns_, [](const std::unique_ptr<ServeConn>& c) { return c->fd < 0; });
  }

  bool flush(ServeConn& c) {
    while (c.out_begin < c.out.size()) {
      const ssize_t n =
          ::send(c.fd, c.out.data() + c.out_begin, c.out.size() - c.out_begin, MSG_NOSIGNAL);
      if (n > 0) {
        c.out_begin += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        const bool paused = c.out.size() - c.out_begin > max_pending_output;
        watch(c, paused ? EPOLLOUT : EPOLLIN | EPOLLOUT);
        return true;
      }
      close_conn(c);  // HAProxy went away (a reset after a health check is normal)
      return false;
    }
    c.out.clear();
    c.out_begin = 0;
    if (c.close_after) {
      close_conn(c);
      return false;
    }
    watch(c, EPOLLIN);
    return true;
  }

  // Appends room for n bytes to the output and returns where they start.
  std::span<uint8_t> output(size_t n) {
    const size_t at = current_->out.size();
    current_->out.resize(at + n);
    return {current_->out.data() + at, n};
  }
  void commit(std::span<uint8_t> reserved, size_t used) {
    current_->out.resize(current_->out.size() - reserved.size() + used);
  }

  void disconnect(ServeConn& c, spop::Status status, std::string_view message) {
    ++counters_.errors;
    auto room = output(512);
    const auto r = spop::encode_agent_disconnect(room, c.max_frame, status, message);
    commit(room, r.size);
    c.close_after = true;
  }

  void on_readable(ServeConn& c) {
    if (c.in.size() - c.in_end < read_chunk / 4) {
      if (c.in_begin != 0) {
        std::memmove(c.in.data(), c.in.data() + c.in_begin, c.in_end - c.in_begin);
        c.in_end -= c.in_begin;
        c.in_begin = 0;
      }
      if (c.in.size() - c.in_end < read_chunk / 4) c.in.resize(c.in.size() * 2);
    }
    const ssize_t n = ::recv(c.fd, c.in.data() + c.in_end, c.in.size() - c.in_end, 0);
    if (n <= 0) {
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
      close_conn(c);  // a bare close or RST is a normal end (spop.md §7)
      return;
    }
    c.in_end += static_cast<size_t>(n);
    current_ = &c;
    while (!c.close_after) {
      const auto r =
          spop::decode_frame({c.in.data() + c.in_begin, c.in_end - c.in_begin}, c.max_frame);
      if (r.error == spop::Error::need_more) break;
      if (r.error != spop::Error::none) {
        disconnect(c, spop::status_of(r.error), spop::describe(r.error));
        break;
      }
      c.in_begin += r.consumed;
      handle(c, r.frame);
    }
    if (c.in_begin == c.in_end) c.in_begin = c.in_end = 0;
    flush(c);
  }

  void handle(ServeConn& c, const spop::Frame& f) {
    if (!c.running && f.type != spop::FrameType::haproxy_hello) {
      disconnect(c, spop::Status::invalid_frame, "first frame is not HAPROXY-HELLO");
      return;
    }
    switch (f.type) {
      case spop::FrameType::haproxy_hello:
        hello(c, f);
        return;
      case spop::FrameType::notify: {
        if (f.frame_id == 0)
          return disconnect(c, spop::Status::invalid_frame, "NOTIFY with frame-id 0");
        if (!f.fin())
          return disconnect(c, spop::Status::fragmentation_not_supported,
                            "fragmentation not supported");
        ++counters_.notifies;
        auto room = output(spop::max_frame_header_size + workload_.ack_actions.size());
        spop::AckWriter ack(room, c.max_frame, f.stream_id, f.frame_id);
        ack.append_actions(workload_.ack_actions);  // refused whole if it does not fit
        commit(room, ack.finish().size);
        return;
      }
      case spop::FrameType::haproxy_disconnect: {
        ++counters_.disconnects;
        auto room = output(512);
        const auto r = spop::encode_agent_disconnect(room, c.max_frame, spop::Status::normal, "");
        commit(room, r.size);
        c.close_after = true;
        return;
      }
      case spop::FrameType::unset:
        return disconnect(c, spop::Status::fragmentation_not_supported,
                          "fragmentation not supported");
      default:
        return;  // unknown types are skipped (spop.md §8)
    }
  }

  void hello(ServeConn& c, const spop::Frame& f) {
    if (c.running) return disconnect(c, spop::Status::invalid_frame, "second HAPROXY-HELLO");
    spop::HaproxyHello h;
    if (const auto e = spop::decode_haproxy_hello(f.payload, h); e != spop::Error::none)
      return disconnect(c, spop::status_of(e), spop::describe(e));
    if (!h.has_versions)
      return disconnect(c, spop::Status::no_version, "supported-versions missing");
    if (!spop::list_contains(h.supported_versions, "2.0"))
      return disconnect(c, spop::Status::unsupported_version, "no common version");
    if (!h.has_max_frame_size)
      return disconnect(c, spop::Status::no_max_frame_size, "max-frame-size missing");
    if (h.max_frame_size < spop::min_max_frame_size)
      return disconnect(c, spop::Status::bad_max_frame_size, "max-frame-size too small");
    const uint32_t size = std::min(h.max_frame_size, options_.max_frame_size);
    const bool pipelining = spop::list_contains(h.capabilities, "pipelining");
    auto room = output(512);
    const auto r =
        spop::encode_agent_hello(room, size, "2.0", size, pipelining ? "pipelining" : "");
    commit(room, r.size);
    if (h.healthcheck) {
      ++counters_.healthchecks;
      c.close_after = true;
      return;
    }
    ++counters_.hellos;
    c.running = true;
    c.max_frame = size;
  }

  const Options& options_;
  const Workload& workload_;
  int listen_fd_;
  std::atomic<bool>& stop_;
  int epoll_ = -1;
  std::vector<std::unique_ptr<ServeConn>> conns_;
  ServeConn* current_ = nullptr;
  Counters counters_;
  unsigned reap_tick_ = 0;
};

}  // namespace

int serve(const Options& options, const Workload& workload, std::atomic<bool>& stop) {
  const auto address = parse_address(options.address);
  if (!address) {
    std::fprintf(stderr, "spoa-bench: bad listen address '%s'\n", options.address.c_str());
    return 2;
  }
  raise_fd_limit(1 << 20);
  const int listen_fd = open_listener(*address, 4096);
  if (listen_fd < 0) {
    std::fprintf(stderr, "spoa-bench: cannot listen on %s: %s\n", options.address.c_str(),
                 std::strerror(-listen_fd));
    return 1;
  }
  const int64_t start = now_ns();
  const int64_t end =
      options.duration_given ? start + static_cast<int64_t>(options.duration_s * 1e9) : INT64_MAX;
  std::fprintf(stderr,
               "spoa-bench: serving precomputed ACKs (%zu bytes of actions) on %s, %u thread(s)\n",
               workload.ack_actions.size(), options.address.c_str(), options.threads);
  std::vector<std::unique_ptr<ServeThread>> loops;
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < options.threads; ++i)
    loops.push_back(std::make_unique<ServeThread>(options, workload, listen_fd, stop));
  for (auto& l : loops)
    threads.emplace_back([&l, end] { l->run(end); });
  for (auto& t : threads)
    t.join();
  ::close(listen_fd);
  if (address->is_unix) ::unlink(address->text.substr(5).c_str());

  Counters total;
  for (auto& l : loops) {
    const Counters& c = l->counters();
    total.accepted += c.accepted;
    total.hellos += c.hellos;
    total.healthchecks += c.healthchecks;
    total.notifies += c.notifies;
    total.disconnects += c.disconnects;
    total.errors += c.errors;
  }
  const double seconds = static_cast<double>(now_ns() - start) / 1e9;
  if (options.json) {
    std::printf(
        "{\"tool\":\"spoa-bench\",\"mode\":\"serve\",\"label\":\"%s\",\"listen\":\"%s\","
        "\"seconds\":%.3f,"
        "\"accepted\":%llu,\"hellos\":%llu,\"healthchecks\":%llu,\"notifies\":%llu,"
        "\"disconnects\":%llu,\"errors\":%llu,\"cpu_s\":%.3f}\n",
        options.label.c_str(), options.address.c_str(), seconds,
        static_cast<unsigned long long>(total.accepted),
        static_cast<unsigned long long>(total.hellos),
        static_cast<unsigned long long>(total.healthchecks),
        static_cast<unsigned long long>(total.notifies),
        static_cast<unsigned long long>(total.disconnects),
        static_cast<unsigned long long>(total.errors), own_cpu_seconds());
  } else {
    std::printf(
        "served %.1f s: %llu connections (%llu HELLO, %llu health checks), %llu NOTIFYs, "
        "%llu DISCONNECTs from HAProxy, %llu dropped with an error; CPU %.2f s\n",
        seconds, static_cast<unsigned long long>(total.accepted),
        static_cast<unsigned long long>(total.hellos),
        static_cast<unsigned long long>(total.healthchecks),
        static_cast<unsigned long long>(total.notifies),
        static_cast<unsigned long long>(total.disconnects),
        static_cast<unsigned long long>(total.errors), own_cpu_seconds());
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace bench
