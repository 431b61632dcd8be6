#pragma once
// Blocking client sockets with a deadline on every call, for talking to a server under test.
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace spoa::test {

// Owns one file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

// Connects to "HOST:PORT" (IPv4 literal), "[IPV6]:PORT" or "unix:/path", as spoa-host's
// ready line prints them. On failure returns an empty Fd and sets `error`.
Fd connect_to(const std::string& address, std::chrono::milliseconds timeout, std::string& error);

// A listening socket on an address the test owns (to provoke "address already in use").
// `address` as above; a port 0 is replaced in `address` by the kernel's choice.
Fd listen_on(std::string& address, std::string& error);

// The port of a "HOST:PORT" / "[IPV6]:PORT" text.
uint16_t port_of(const std::string& address);

bool send_all(int fd, std::span<const uint8_t> bytes, std::chrono::milliseconds timeout);

// Reads exactly `size` bytes. nullopt on timeout, end of stream or error.
std::optional<std::vector<uint8_t>> receive_exactly(int fd, size_t size,
                                                    std::chrono::milliseconds timeout);

// True once the peer has closed (end of stream or reset) within `timeout`; data that
// arrives first is read and dropped.
bool wait_for_close(int fd, std::chrono::milliseconds timeout);

}  // namespace spoa::test
