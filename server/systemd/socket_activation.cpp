#include "systemd/socket_activation.hpp"

#include <sys/socket.h>
#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <cstring>

#include "log/log.hpp"

namespace spoa::systemd {

std::vector<ActivatedSocket> take_activated_sockets(std::vector<std::string>& errors) {
  char** names = nullptr;
  const int count = sd_listen_fds_with_names(1, &names);
  std::vector<ActivatedSocket> sockets;
  if (count < 0) {
    errors.push_back(fmt::format("LISTEN_FDS: {}", std::strerror(-count)));
    return sockets;
  }
  for (int i = 0; i < count; ++i) {
    const int fd = SD_LISTEN_FDS_START + i;
    std::string name =
        names != nullptr && names[i] != nullptr && std::strcmp(names[i], "unknown") != 0
            ? names[i]
            : fmt::format("fd {}", fd);
    if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
      errors.push_back(
          fmt::format("socket activation: {} is not a listening stream socket "
                      "(use ListenStream= in the .socket unit)",
                      name));
    } else {
      sockets.push_back({fd, std::move(name)});
    }
  }
  if (names != nullptr) {
    for (int i = 0; i < count; ++i)
      std::free(names[i]);
    std::free(names);
  }
  return sockets;
}

}  // namespace spoa::systemd
