#include "address.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstddef>
#include <cstring>

namespace bench {

std::optional<Address> parse_address(std::string_view text) {
  Address a;
  a.text = std::string(text);
  if (text.starts_with("unix:")) {
    const std::string_view path = text.substr(5);
    sockaddr_un un{};
    if (path.empty() || path.size() >= sizeof(un.sun_path)) return std::nullopt;
    un.sun_family = AF_UNIX;
    std::memcpy(un.sun_path, path.data(), path.size());
    std::memcpy(&a.storage, &un, sizeof(un));
    a.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
    a.is_unix = true;
    return a;
  }
  std::string_view host;
  std::string_view port;
  if (text.starts_with('[')) {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return std::nullopt;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  unsigned port_number = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), port_number);
  if (ec != std::errc{} || end != port.data() + port.size() || port_number > 65535)
    return std::nullopt;
  if (host.empty() || host == "localhost") host = "127.0.0.1";
  const std::string host_z(host);
  sockaddr_in in4{};
  sockaddr_in6 in6{};
  if (inet_pton(AF_INET, host_z.c_str(), &in4.sin_addr) == 1) {
    in4.sin_family = AF_INET;
    in4.sin_port = htons(static_cast<uint16_t>(port_number));
    std::memcpy(&a.storage, &in4, sizeof(in4));
    a.length = sizeof(in4);
  } else if (inet_pton(AF_INET6, host_z.c_str(), &in6.sin6_addr) == 1) {
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(static_cast<uint16_t>(port_number));
    std::memcpy(&a.storage, &in6, sizeof(in6));
    a.length = sizeof(in6);
  } else {
    return std::nullopt;
  }
  return a;
}

int start_connect(const Address& address) {
  const int fd = ::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  if (!address.is_unix) {
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  if (::connect(fd, address.sa(), address.length) < 0 && errno != EINPROGRESS) {
    const int e = errno;
    ::close(fd);
    return -e;
  }
  return fd;
}

int open_listener(const Address& address, int backlog) {
  const int fd = ::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  if (address.is_unix) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(&address.storage);
    ::unlink(un->sun_path);
  } else {
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  }
  if (::bind(fd, address.sa(), address.length) < 0 || ::listen(fd, backlog) < 0) {
    const int e = errno;
    ::close(fd);
    return -e;
  }
  return fd;
}

long raise_fd_limit(long wanted) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
  const auto want = static_cast<rlim_t>(wanted);
  if (rl.rlim_cur >= want) return static_cast<long>(rl.rlim_cur);
  if (rl.rlim_max < want) {
    rlimit raised{want, want};
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) return wanted;  // root: hard limit raised
  }
  rl.rlim_cur = std::min(want, rl.rlim_max);
  ::setrlimit(RLIMIT_NOFILE, &rl);
  ::getrlimit(RLIMIT_NOFILE, &rl);
  return static_cast<long>(rl.rlim_cur);
}

}  // namespace bench
