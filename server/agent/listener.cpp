#include "agent/listener.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>

namespace spoa::agent {
namespace {

namespace asio = boost::asio;
using Protocol = Listener::Protocol;
using Acceptor = Listener::Acceptor;

// Error text inside a sentence: "listen X: address already in use", not "... Address ...".
std::string reason(const boost::system::error_code& error) {
  std::string text = error.message();
  if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z' &&
      (text.size() == 1 || !(text[1] >= 'A' && text[1] <= 'Z'))) {
    text[0] = static_cast<char>(text[0] - 'A' + 'a');
  }
  return text;
}

std::string errno_reason(int number) {
  return reason(boost::system::error_code(number, boost::system::system_category()));
}

// The unix socket file at `path` was left by a process that is gone if connecting to it
// is refused. A non-blocking connect so that a live server with a full backlog (EAGAIN)
// counts as alive instead of hanging the start.
enum class SocketFileState { absent, stale, alive, not_a_socket, unknown };

SocketFileState probe_socket_file(const std::string& path, int& error_number) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return SocketFileState::absent;
    error_number = errno;
    return SocketFileState::unknown;
  }
  if (!S_ISSOCK(st.st_mode)) return SocketFileState::not_a_socket;

  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error_number = errno;
    return SocketFileState::unknown;
  }
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());  // length checked by the parser
  const int result = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address));
  const int connect_errno = errno;
  ::close(fd);
  if (result == 0 || connect_errno == EAGAIN || connect_errno == EINPROGRESS) {
    return SocketFileState::alive;
  }
  if (connect_errno == ECONNREFUSED) return SocketFileState::stale;
  if (connect_errno == ENOENT) return SocketFileState::absent;  // removed meanwhile
  error_number = connect_errno;
  return SocketFileState::unknown;
}

bool is_ip_literal(const std::string& host) {
  boost::system::error_code error;
  asio::ip::make_address(host, error);
  return !error;
}

}  // namespace

std::string format_endpoint(const Protocol::endpoint& endpoint) {
  const sockaddr* address = endpoint.data();
  switch (address->sa_family) {
    case AF_INET:
    case AF_INET6: {
      asio::ip::tcp::endpoint ip;
      const size_t size = std::min(endpoint.size(), ip.capacity());
      std::memcpy(ip.data(), address, size);
      ip.resize(size);
      const std::string host = ip.address().to_string();
      const std::string port = std::to_string(ip.port());
      return address->sa_family == AF_INET6 ? "[" + host + "]:" + port : host + ":" + port;
    }
    case AF_UNIX: {
      const auto* un = reinterpret_cast<const sockaddr_un*>(address);
      const size_t offset = offsetof(sockaddr_un, sun_path);
      if (endpoint.size() <= offset) return "unix";
      size_t length = endpoint.size() - offset;
      // Abstract sockets start with a NUL and are not NUL-terminated; Linux shows them "@".
      if (un->sun_path[0] == '\0') return "unix:@" + std::string(un->sun_path + 1, length - 1);
      length = strnlen(un->sun_path, length);
      return "unix:" + std::string(un->sun_path, length);
    }
    default:
      return "address family " + std::to_string(address->sa_family);
  }
}

Listener::Listener(Acceptor acceptor, std::string name, bool tcp)
    : acceptor_(std::move(acceptor)), name_(std::move(name)), tcp_(tcp) {
  boost::system::error_code error;
  const Protocol::endpoint local = acceptor_.local_endpoint(error);
  local_address_ = error ? name_ : format_endpoint(local);
}

Listener::~Listener() {
  close();
}

void Listener::configure_accepted(Socket& socket) const {
  if (!tcp_) return;
  boost::system::error_code ignored;  // the peer may already be gone; the read will tell
  socket.set_option(asio::ip::tcp::no_delay(true), ignored);
}

std::string Listener::describe_peer(Socket& socket) const {
  if (tcp_) {
    boost::system::error_code error;
    const Protocol::endpoint remote = socket.remote_endpoint(error);
    return error ? local_address_ + " (peer gone)" : format_endpoint(remote);
  }
  ucred credentials{};
  socklen_t size = sizeof(credentials);
  if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &credentials, &size) == 0) {
    return local_address_ + " pid " + std::to_string(credentials.pid);
  }
  return local_address_;
}

void Listener::close() {
  if (acceptor_.is_open()) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }
  if (owned_path_.empty()) return;
  struct stat st {};
  if (::lstat(owned_path_.c_str(), &st) == 0 && st.st_dev == owned_device_ &&
      st.st_ino == owned_inode_) {
    ::unlink(owned_path_.c_str());
  }
  owned_path_.clear();
}

namespace {

bool bind_tcp(asio::io_context& io, const config::ListenAddress& address,
              std::vector<std::unique_ptr<Listener>>& out, std::string& error) {
  const std::string prefix = "listen " + address.text + ": ";
  const bool literal = is_ip_literal(address.host);
  // Literals never touch the resolver's DNS path; names take only the families this host
  // has addresses for.
  const auto flags = asio::ip::resolver_base::passive | asio::ip::resolver_base::numeric_service |
                     (literal ? asio::ip::resolver_base::numeric_host
                              : asio::ip::resolver_base::address_configured);
  asio::ip::tcp::resolver resolver(io);
  boost::system::error_code resolve_error;
  const auto results =
      resolver.resolve(address.host, std::to_string(address.port), flags, resolve_error);
  if (resolve_error) {
    error = prefix + "cannot resolve \"" + address.host + "\": " + reason(resolve_error);
    return false;
  }
  std::vector<asio::ip::tcp::endpoint> endpoints;
  for (const auto& entry : results) {
    if (std::find(endpoints.begin(), endpoints.end(), entry.endpoint()) == endpoints.end()) {
      endpoints.push_back(entry.endpoint());
    }
  }
  if (endpoints.empty()) {
    error = prefix + "\"" + address.host + "\" resolves to no address";
    return false;
  }

  std::vector<std::unique_ptr<Listener>> bound;
  for (const auto& ip_endpoint : endpoints) {
    const Protocol::endpoint endpoint(ip_endpoint);
    // Name the resolved address only when the operator wrote a name: for a literal it is
    // the text already quoted.
    const std::string where = literal ? prefix : prefix + format_endpoint(endpoint) + ": ";
    Acceptor acceptor(io);
    boost::system::error_code failure;
    acceptor.open(endpoint.protocol(), failure);
    if (!failure) acceptor.set_option(asio::socket_base::reuse_address(true), failure);
    if (!failure && ip_endpoint.address().is_v6()) {
      acceptor.set_option(asio::ip::v6_only(true), failure);
    }
    if (!failure) acceptor.bind(endpoint, failure);
    if (!failure) acceptor.listen(asio::socket_base::max_listen_connections, failure);
    if (failure) {
      error = where + reason(failure);
      return false;  // `bound` closes what this address had bound so far
    }
    bound.push_back(std::make_unique<Listener>(std::move(acceptor), address.text, true));
  }
  for (auto& listener : bound)
    out.push_back(std::move(listener));
  return true;
}

}  // namespace

bool bind_listeners(asio::io_context& io, const config::ListenAddress& address,
                    std::vector<std::unique_ptr<Listener>>& out, std::string& error) {
  if (address.kind == config::ListenAddress::Kind::tcp) return bind_tcp(io, address, out, error);

  const std::string prefix = "listen " + address.text + ": ";
  const std::string& path = address.path;
  int probe_errno = 0;
  switch (probe_socket_file(path, probe_errno)) {
    case SocketFileState::absent:
      break;
    case SocketFileState::stale:
      // Left by a process that died without cleaning up; nobody can be using it.
      if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        error = prefix + "cannot remove the stale socket " + path + ": " + errno_reason(errno);
        return false;
      }
      break;
    case SocketFileState::alive:
      error = prefix + "address already in use (a server answers on " + path + ")";
      return false;
    case SocketFileState::not_a_socket:
      error = prefix + path + " exists and is not a socket";
      return false;
    case SocketFileState::unknown:
      error = prefix + "cannot check the existing " + path + ": " + errno_reason(probe_errno);
      return false;
  }

  Acceptor acceptor(io);
  const Protocol::endpoint endpoint{asio::local::stream_protocol::endpoint(path)};
  boost::system::error_code failure;
  acceptor.open(endpoint.protocol(), failure);
  if (!failure) acceptor.bind(endpoint, failure);
  if (failure) {
    error = prefix + reason(failure);
    return false;
  }
  auto listener = std::make_unique<Listener>(std::move(acceptor), address.text, false);
  // From here on the listener removes the file if anything below fails.
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    listener->owned_path_ = path;
    listener->owned_device_ = st.st_dev;
    listener->owned_inode_ = st.st_ino;
  }
  // HAProxy runs as its own user: the group, not the world, gets to connect.
  if (::chmod(path.c_str(), 0660) != 0) {
    error = prefix + "cannot chmod 0660 " + path + ": " + errno_reason(errno);
    return false;
  }
  listener->acceptor().listen(asio::socket_base::max_listen_connections, failure);
  if (failure) {
    error = prefix + reason(failure);
    return false;
  }
  out.push_back(std::move(listener));
  return true;
}

std::unique_ptr<Listener> adopt_listener(asio::io_context& io, int fd, std::string& error,
                                         std::string name) {
  const std::string prefix = "inherited socket fd " + std::to_string(fd) + ": ";
  sockaddr_storage storage{};
  socklen_t size = sizeof(storage);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &size) != 0) {
    error = prefix + errno_reason(errno);
    return nullptr;
  }
  int type = 0;
  socklen_t option_size = sizeof(type);
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &option_size) != 0 || type != SOCK_STREAM) {
    error = prefix + "not a stream socket";
    return nullptr;
  }
  int listening = 0;
  option_size = sizeof(listening);
  if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &option_size) != 0 ||
      listening == 0) {
    error = prefix + "not a listening socket";
    return nullptr;
  }
  const int family = storage.ss_family;
  if (family != AF_INET && family != AF_INET6 && family != AF_UNIX) {
    error = prefix + "unsupported address family " + std::to_string(family);
    return nullptr;
  }
  const bool tcp = family != AF_UNIX;
  Acceptor acceptor(io);
  boost::system::error_code failure;
  acceptor.assign(Protocol(family, tcp ? IPPROTO_TCP : 0), fd, failure);
  if (failure) {
    error = prefix + reason(failure);
    return nullptr;
  }
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);  // inherited fds may lack it; plugins may spawn children
  if (name.empty()) name = "fd " + std::to_string(fd);
  return std::make_unique<Listener>(std::move(acceptor), std::move(name), tcp);
}

}  // namespace spoa::agent
