#pragma once
// The sd_notify(3) side of Type=notify: readiness, status lines, reload and stop
// announcements, and the watchdog keep-alive. Every call is a no-op when the process was
// not started by systemd (NOTIFY_SOCKET unset), so the daemon behaves the same by hand.
#include <chrono>
#include <optional>
#include <string_view>

namespace spoa::systemd {

class ServiceNotifier {
 public:
  ServiceNotifier();

  bool enabled() const { return enabled_; }
  void ready(std::string_view status);
  void status(std::string_view status);
  // RELOADING=1 with the monotonic timestamp systemd >= 253 asks for (older ones ignore it).
  void reloading(std::string_view status);
  void stopping(std::string_view status);
  void watchdog();
  // How often to call watchdog(): half of WatchdogSec, if the watchdog is on for us.
  std::optional<std::chrono::microseconds> watchdog_period() const { return watchdog_period_; }

 private:
  void send(std::string_view state);

  bool enabled_ = false;
  std::optional<std::chrono::microseconds> watchdog_period_;
};

}  // namespace spoa::systemd
