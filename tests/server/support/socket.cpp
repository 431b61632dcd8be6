#include "support/socket.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace spoa::test {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() < 0 ? 0 : static_cast<int>(left.count());
}

// Waits for `events` on fd until the deadline; false on timeout.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  while (true) {
    pollfd entry{fd, events, 0};
    const int result = ::poll(&entry, 1, remaining_ms(deadline));
    if (result > 0) return true;
    if (result == 0) return false;
    if (errno != EINTR) return false;
  }
}

struct Address {
  sockaddr_storage storage{};
  socklen_t size = 0;
  int family = AF_UNSPEC;
};

bool parse(const std::string& text, Address& out, std::string& error) {
  if (text.rfind("unix:", 0) == 0) {
    const std::string path = text.substr(5);
    sockaddr_un un{};
    if (path.size() >= sizeof(un.sun_path)) {
      error = "socket path too long: " + path;
      return false;
    }
    un.sun_family = AF_UNIX;
    std::memcpy(un.sun_path, path.data(), path.size());
    std::memcpy(&out.storage, &un, sizeof(un));
    out.size = sizeof(un);
    out.family = AF_UNIX;
    return true;
  }
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) {
    error = "no port in " + text;
    return false;
  }
  std::string host = text.substr(0, colon);
  const int port = std::stoi(text.substr(colon + 1));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    sockaddr_in6 in6{};
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(static_cast<uint16_t>(port));
    if (::inet_pton(AF_INET6, host.c_str(), &in6.sin6_addr) != 1) {
      error = "not an IPv6 address: " + host;
      return false;
    }
    std::memcpy(&out.storage, &in6, sizeof(in6));
    out.size = sizeof(in6);
    out.family = AF_INET6;
    return true;
  }
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &in.sin_addr) != 1) {
    error = "not an IPv4 address: " + host;
    return false;
  }
  std::memcpy(&out.storage, &in, sizeof(in));
  out.size = sizeof(in);
  out.family = AF_INET;
  return true;
}

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

}  // namespace

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) reset(other.release());
  return *this;
}

void Fd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

Fd connect_to(const std::string& address, std::chrono::milliseconds timeout, std::string& error) {
  Address target;
  if (!parse(address, target, error)) return {};
  // Non-blocking while connecting: a unix listener with a full backlog makes a blocking
  // connect wait forever.
  Fd fd(::socket(target.family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) {
    error = errno_text("socket");
    return {};
  }
  const auto deadline = Clock::now() + timeout;
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&target.storage), target.size) != 0) {
    if (errno != EINPROGRESS && errno != EAGAIN) {
      error = errno_text("connect " + address);
      return {};
    }
    if (!wait_for(fd.get(), POLLOUT, deadline)) {
      error = "connect " + address + ": timed out";
      return {};
    }
    int failure = 0;
    socklen_t size = sizeof(failure);
    ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &failure, &size);
    if (failure != 0) {
      error = "connect " + address + ": " + std::strerror(failure);
      return {};
    }
  }
  const int flags = ::fcntl(fd.get(), F_GETFL);
  ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
  return fd;
}

Fd listen_on(std::string& address, std::string& error) {
  Address target;
  if (!parse(address, target, error)) return {};
  Fd fd(::socket(target.family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) {
    error = errno_text("socket");
    return {};
  }
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&target.storage), target.size) != 0 ||
      ::listen(fd.get(), 16) != 0) {
    error = errno_text("bind " + address);
    return {};
  }
  if (target.family == AF_INET) {
    sockaddr_in bound{};
    socklen_t size = sizeof(bound);
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &size);
    address = address.substr(0, address.rfind(':') + 1) + std::to_string(ntohs(bound.sin_port));
  } else if (target.family == AF_INET6) {
    sockaddr_in6 bound{};
    socklen_t size = sizeof(bound);
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &size);
    address = address.substr(0, address.rfind(':') + 1) + std::to_string(ntohs(bound.sin6_port));
  }
  return fd;
}

uint16_t port_of(const std::string& address) {
  return static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
}

bool send_all(int fd, std::span<const uint8_t> bytes, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!bytes.empty()) {
    if (!wait_for(fd, POLLOUT, deadline)) return false;
    const ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return false;
    }
    bytes = bytes.subspan(static_cast<size_t>(sent));
  }
  return true;
}

std::optional<std::vector<uint8_t>> receive_exactly(int fd, size_t size,
                                                    std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::vector<uint8_t> data(size);
  size_t received = 0;
  while (received < size) {
    if (!wait_for(fd, POLLIN, deadline)) return std::nullopt;
    const ssize_t n = ::recv(fd, data.data() + received, size - received, MSG_DONTWAIT);
    if (n == 0) return std::nullopt;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return std::nullopt;
    }
    received += static_cast<size_t>(n);
  }
  return data;
}

bool wait_for_close(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  uint8_t buffer[4096];
  while (wait_for(fd, POLLIN, deadline)) {
    const ssize_t n = ::recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0 && errno != EINTR && errno != EAGAIN) return true;  // reset counts as closed
  }
  return false;
}

}  // namespace spoa::test
