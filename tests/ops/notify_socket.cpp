#include "notify_socket.hpp"

#include <fcntl.h>
#include <linux/net_tstamp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace spoa::ops {

std::optional<std::string> NotifyMessage::field(std::string_view name) const {
  std::string_view rest = text;
  while (!rest.empty()) {
    const size_t end = rest.find('\n');
    const std::string_view line = rest.substr(0, end);
    if (line.size() > name.size() && line.substr(0, name.size()) == name &&
        line[name.size()] == '=') {
      return std::string(line.substr(name.size() + 1));
    }
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  return std::nullopt;
}

bool NotifyMessage::has(std::string_view assignment) const {
  const size_t equals = assignment.find('=');
  if (equals == std::string_view::npos) return false;
  const auto value = field(assignment.substr(0, equals));
  return value && *value == assignment.substr(equals + 1);
}

NotifySocket::NotifySocket(std::string path) : path_(std::move(path)) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path_.size() >= sizeof(address.sun_path)) {
    throw std::runtime_error("notify socket path too long: " + path_);
  }
  std::memcpy(address.sun_path, path_.data(), path_.size());
  fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    const int error = errno;
    ::close(fd_);
    throw std::system_error(error, std::generic_category(), "bind " + path_);
  }
  const int on = 1;
  if (::setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof(on)) != 0) {
    const int error = errno;
    ::close(fd_);
    throw std::system_error(error, std::generic_category(), "SO_TIMESTAMPNS");
  }
  if (::pipe2(stop_pipe_, O_CLOEXEC) != 0) {
    const int error = errno;
    ::close(fd_);
    throw std::system_error(error, std::generic_category(), "pipe2");
  }
  thread_ = std::thread([this] { run(); });
}

NotifySocket::~NotifySocket() {
  const char byte = 0;
  [[maybe_unused]] const ssize_t written = ::write(stop_pipe_[1], &byte, 1);
  thread_.join();
  ::close(stop_pipe_[0]);
  ::close(stop_pipe_[1]);
  ::close(fd_);
  ::unlink(path_.c_str());
}

void NotifySocket::run() {
  char buffer[4096];
  while (true) {
    pollfd entries[2] = {{fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    const int ready = ::poll(entries, 2, -1);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (entries[1].revents != 0) return;
    if ((entries[0].revents & POLLIN) == 0) continue;
    iovec data{buffer, sizeof(buffer)};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
    msghdr header{};
    header.msg_iov = &data;
    header.msg_iovlen = 1;
    header.msg_control = control;
    header.msg_controllen = sizeof(control);
    const ssize_t n = ::recvmsg(fd_, &header, MSG_DONTWAIT);
    if (n < 0) continue;
    NotifyMessage message{std::string(buffer, static_cast<size_t>(n)), Clock::now()};
    for (cmsghdr* c = CMSG_FIRSTHDR(&header); c != nullptr; c = CMSG_NXTHDR(&header, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
        timespec stamp{};
        std::memcpy(&stamp, CMSG_DATA(c), sizeof(stamp));
        message.sent = std::chrono::seconds(stamp.tv_sec) + std::chrono::nanoseconds(stamp.tv_nsec);
      }
    }
    {
      std::lock_guard lock(mutex_);
      messages_.push_back(std::move(message));
    }
    changed_.notify_all();
  }
}

std::vector<NotifyMessage> NotifySocket::messages() const {
  std::lock_guard lock(mutex_);
  return messages_;
}

size_t NotifySocket::size() const {
  std::lock_guard lock(mutex_);
  return messages_.size();
}

std::optional<size_t> NotifySocket::wait_for(const std::function<bool(const NotifyMessage&)>& match,
                                             size_t from, std::chrono::milliseconds timeout) const {
  const auto deadline = Clock::now() + timeout;
  std::unique_lock lock(mutex_);
  size_t next = from;
  while (true) {
    for (; next < messages_.size(); ++next) {
      if (match(messages_[next])) return next;
    }
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout) {
      for (; next < messages_.size(); ++next) {
        if (match(messages_[next])) return next;
      }
      return std::nullopt;
    }
  }
}

std::optional<size_t> NotifySocket::wait_for(std::string_view assignment, size_t from,
                                             std::chrono::milliseconds timeout) const {
  const std::string wanted(assignment);
  return wait_for([&wanted](const NotifyMessage& m) { return m.has(wanted); }, from, timeout);
}

std::string describe(const std::vector<NotifyMessage>& messages) {
  std::string text;
  if (messages.empty()) return "(no notify message)";
  const auto start = messages.front().received;
  for (const auto& message : messages) {
    std::string flat = message.text;
    for (char& c : flat)
      if (c == '\n') c = '|';
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(message.received - start).count();
    text += "  +" + std::to_string(ms) + " ms: " + flat + "\n";
  }
  return text;
}

}  // namespace spoa::ops
