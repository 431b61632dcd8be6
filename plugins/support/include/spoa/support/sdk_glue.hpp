// Header-only glue between the support library and the plugin SDK (plugin.hpp), kept apart
// so the support code itself stays testable without a host.
#pragma once

#include <spoa/plugin.hpp>

#include <optional>
#include <string>
#include <vector>

#include "spoa/support/client_address_settings.hpp"
#include "spoa/support/log_sink.hpp"

namespace spoa::support {

inline LogSink log_sink(spoa::Logger logger) {
  return [logger](Severity severity, const std::string& text) {
    switch (severity) {
      case Severity::debug:
        logger.debug(text);
        break;
      case Severity::info:
        logger.info(text);
        break;
      case Severity::warn:
        logger.warn(text);
        break;
      case Severity::error:
        logger.error(text);
        break;
    }
  };
}

// An address argument: HAProxy's `src` arrives as IPV4 or IPV6; a string is parsed.
inline std::optional<IpAddress> address_of(const spoa::Value& v) {
  if (auto a = v.as_ipv4()) return IpAddress::v4(a->bytes);
  if (auto a = v.as_ipv6()) return IpAddress::v6(a->bytes);
  if (auto s = v.as_bytes()) return IpAddress::parse(*s);
  return std::nullopt;
}

// The client address of a message under `settings`: the `address_arg` argument, walked
// through every `forwarded_arg` argument (in message order) when a header is configured.
inline std::optional<ClientAddress> client_address_of(const spoa::Message& message,
                                                      const ClientAddressSettings& settings) {
  std::optional<IpAddress> src;
  std::vector<std::string_view> lines;
  for (const spoa::Arg arg : message.args()) {
    if (!settings.address_arg.empty() && arg.name() == settings.address_arg) {
      src = address_of(arg.value());
    } else if (settings.policy.header != ForwardedHeader::none &&
               arg.name() == settings.forwarded_arg) {
      if (auto s = arg.value().as_bytes()) lines.push_back(*s);
    }
  }
  // A message that names an address argument but lacks it judges nothing.
  if (!settings.address_arg.empty() && !src) return std::nullopt;
  return resolve_client_address(settings.policy, src, lines);
}

}  // namespace spoa::support
