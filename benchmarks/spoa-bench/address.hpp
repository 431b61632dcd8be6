#pragma once
// Socket addresses as spoa-host writes them: HOST:PORT, [IPV6]:PORT or unix:/path.
#include <sys/socket.h>

#include <optional>
#include <string>
#include <string_view>

namespace bench {

struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  bool is_unix = false;
  std::string text;

  const sockaddr* sa() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
  int family() const noexcept { return storage.ss_family; }
};

// Numeric addresses only ("localhost" is taken as 127.0.0.1). nullopt if unparsable.
std::optional<Address> parse_address(std::string_view text);

// Non-blocking socket, connect() started. Returns the fd (>= 0) or -errno. TCP sockets get
// TCP_NODELAY, as HAProxy sets on its SPOE connections.
int start_connect(const Address& address);

// Non-blocking listening socket (SO_REUSEADDR; a stale unix socket file is replaced).
// Returns the fd or -errno.
int open_listener(const Address& address, int backlog);

// Raises RLIMIT_NOFILE's soft limit to `wanted` (and the hard one too if allowed).
// Returns the soft limit in force afterwards.
long raise_fd_limit(long wanted);

}  // namespace bench
