#include "systemd/service_notifier.hpp"

#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <ctime>
#include <string>

#include "log/log.hpp"

namespace spoa::systemd {

ServiceNotifier::ServiceNotifier() {
  enabled_ = std::getenv("NOTIFY_SOCKET") != nullptr;
  uint64_t usec = 0;
  // unset_environment = 0: the variables stay for anything exec'd later (nothing is).
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    watchdog_period_ = std::chrono::microseconds(usec / 2);
  }
}

void ServiceNotifier::send(std::string_view state) {
  if (!enabled_) return;
  const std::string text(state);
  if (const int rc = sd_notify(0, text.c_str()); rc < 0) {
    log::warn("sd_notify failed: {}", std::strerror(-rc));
  }
}

void ServiceNotifier::ready(std::string_view status) {
  send(fmt::format("READY=1\nSTATUS={}", status));
}

void ServiceNotifier::status(std::string_view status) {
  send(fmt::format("STATUS={}", status));
}

void ServiceNotifier::reloading(std::string_view status) {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const auto usec =
      static_cast<uint64_t>(now.tv_sec) * 1000000u + static_cast<uint64_t>(now.tv_nsec) / 1000u;
  send(fmt::format("RELOADING=1\nMONOTONIC_USEC={}\nSTATUS={}", usec, status));
}

void ServiceNotifier::stopping(std::string_view status) {
  send(fmt::format("STOPPING=1\nSTATUS={}", status));
}

void ServiceNotifier::watchdog() {
  send("WATCHDOG=1");
}

}  // namespace spoa::systemd
