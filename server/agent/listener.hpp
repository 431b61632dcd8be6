#pragma once
// A listening socket: TCP (IPv4, IPv6) or unix, behind one acceptor type, so that the
// server accepts, counts and hands out connections the same way whatever the address.
#include <sys/types.h>

#include <boost/asio/basic_socket_acceptor.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>

#include <memory>
#include <string>
#include <vector>

#include "config/listen_address.hpp"

namespace spoa::agent {

class Listener {
 public:
  using Protocol = boost::asio::generic::stream_protocol;
  using Acceptor = boost::asio::basic_socket_acceptor<Protocol>;
  using Socket = Protocol::socket;

  // Use bind_listeners() or adopt_listener().
  Listener(Acceptor acceptor, std::string name, bool tcp);
  // Closes the socket and removes the socket file this listener created.
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  Acceptor& acceptor() { return acceptor_; }
  // How the operator named it: the config text ("127.0.0.1:12345", "unix:/run/x.sock"), or
  // for an inherited socket its FileDescriptorName= or "fd 3".
  const std::string& name() const { return name_; }
  // Where it really listens: the kernel's port for ":0", the address a host name resolved
  // to. "127.0.0.1:41234", "[::1]:12345", "unix:/run/x.sock".
  const std::string& local_address() const { return local_address_; }
  bool is_tcp() const { return tcp_; }

  // Per-socket options of an accepted connection (TCP_NODELAY on TCP: every frame is a
  // whole message; Nagle would hold back an ACK waiting for the next one).
  void configure_accepted(Socket& socket) const;
  // "10.0.0.1:43210", or for a unix peer "unix:/run/x.sock pid 1234" (unix peers have no
  // address of their own; the pid is the next best thing in a log line).
  std::string describe_peer(Socket& socket) const;

  // Stops listening and removes the socket file if this listener created it and it is
  // still the same file (another process may have replaced it since). Idempotent.
  void close();

 private:
  friend bool bind_listeners(boost::asio::io_context&, const config::ListenAddress&,
                             std::vector<std::unique_ptr<Listener>>&, std::string&);

  Acceptor acceptor_;
  std::string name_;
  std::string local_address_;
  bool tcp_;
  // The unix socket file this listener created, and its identity at creation.
  std::string owned_path_;
  dev_t owned_device_ = 0;
  ino_t owned_inode_ = 0;
};

// Binds and listens on `address`, appending one Listener per bound socket to `out`: a host
// name listens on every address it resolves to (as nginx does), so "localhost:12345" may
// give two. TCP sockets get SO_REUSEADDR (a restart must not wait out TIME_WAIT) and IPv6
// ones IPV6_V6ONLY (so "[::]:P" and "0.0.0.0:P" can both be bound). A unix socket path
// that exists is replaced only if it is a socket nobody answers on (left over by a crash);
// the new file is made 0660. On failure returns false, leaves `out` as it was (sockets
// bound so far are closed again) and sets `error` to "listen TEXT: reason".
bool bind_listeners(boost::asio::io_context& io, const config::ListenAddress& address,
                    std::vector<std::unique_ptr<Listener>>& out, std::string& error);

// Takes over a socket that is already bound and listening, e.g. one passed by systemd
// socket activation (LISTEN_FDS). The family comes from getsockname(). `name` is what logs
// call it (a socket unit's FileDescriptorName=); empty means "fd N". The listener owns the
// fd from then on but never removes a unix socket file: whoever created it does. On failure
// returns nullptr with `error` set; the fd is then left open.
std::unique_ptr<Listener> adopt_listener(boost::asio::io_context& io, int fd, std::string& error,
                                         std::string name = {});

// "127.0.0.1:80", "[::1]:80", "unix:/path"; "unix" for an unnamed unix socket.
std::string format_endpoint(const Listener::Protocol::endpoint& endpoint);

}  // namespace spoa::agent
