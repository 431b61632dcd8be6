// HTTP GETs to the CrowdSec local API, on the caller's (poller) thread. Plain HTTP only:
// the local API listens on loopback or a private network, and TLS would bring OpenSSL
// into a package that otherwise needs no library (see the README's iprep section).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace spoa::iprep::crowdsec {

struct LapiEndpoint {
  std::string host;
  std::string port;       // "8080"
  std::string base_path;  // "/" or "/prefix/", always ending in '/'
};

// "http://127.0.0.1:8080/", "http://[::1]:8080", "http://lapi.internal/"; nullopt for
// anything else (https included: see above).
std::optional<LapiEndpoint> parse_lapi_url(std::string_view url);

class LapiClient {
 public:
  LapiClient(LapiEndpoint endpoint, std::string api_key, std::chrono::milliseconds timeout);

  // GET base_path + `target` ("v1/decisions/stream?startup=true") with the bouncer's
  // X-Api-Key. Returns the body of a 200 answer; throws std::runtime_error naming the
  // URL and what failed (connect, timeout, HTTP status with the start of the body).
  std::string get(const std::string& target) const;

  std::string url_of(const std::string& target) const;

 private:
  LapiEndpoint endpoint_;
  std::string api_key_;
  std::chrono::milliseconds timeout_;
};

}  // namespace spoa::iprep::crowdsec
