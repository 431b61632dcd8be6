#pragma once
// Sockets handed over by systemd (.socket units, LISTEN_FDS). When present they replace
// the configured listeners.
#include <string>
#include <vector>

namespace spoa::systemd {

struct ActivatedSocket {
  int fd;
  std::string name;  // FileDescriptorName= of the socket unit, or "fd N"
};

// Takes the passed descriptors (and unsets LISTEN_* so children do not see them). Only
// listening stream sockets are accepted; anything else is reported in `errors`.
std::vector<ActivatedSocket> take_activated_sockets(std::vector<std::string>& errors);

}  // namespace spoa::systemd
