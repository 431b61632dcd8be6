#include "ops_support.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>

#include "support/socket.hpp"

namespace spoa::ops {

ReservedPort::ReservedPort() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
  const int on = 1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  if (::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
      ::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    const int error = errno;
    ::close(fd_);
    throw std::system_error(error, std::generic_category(), "reserve 127.0.0.1:0");
  }
  address_ = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));
}

ReservedPort::~ReservedPort() {
  ::close(fd_);
}

void write_atomically(const std::string& path, const std::string& content) {
  const std::string temporary = path + ".new";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << content;
    out.flush();
    if (!out) throw std::runtime_error("cannot write " + temporary);
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    throw std::system_error(errno, std::generic_category(), "rename " + temporary);
  }
}

void install_file(const std::string& source, const std::string& destination) {
  const std::string temporary = destination + ".dpkg-new";
  std::filesystem::copy_file(source, temporary, std::filesystem::copy_options::overwrite_existing);
  if (std::rename(temporary.c_str(), destination.c_str()) != 0) {
    throw std::system_error(errno, std::generic_category(), "rename " + temporary);
  }
}

std::vector<std::string> sanitizer_environment() {
  std::vector<std::string> result;
  for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS"}) {
    if (const char* value = std::getenv(name)) result.push_back(std::string(name) + "=" + value);
  }
  return result;
}

bool accepts_connections(const std::string& address) {
  std::string error;
  return static_cast<bool>(test::connect_to(address, 10s, error));
}

}  // namespace spoa::ops
