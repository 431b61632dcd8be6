// Paths of the test databases (make_fixtures.pl) and small helpers shared by the tests.
#pragma once

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include <arpa/inet.h>
#include <unistd.h>

#include "geoip_lookup.hpp"

namespace geoip_test {

inline std::string fixture(std::string_view name) {
  return std::string(GEOIP_FIXTURE_DIR) + "/" + std::string(name) + ".mmdb";
}

// A variable's value as text with its kind, for comparisons: "string DE", "uint32 64496".
inline std::string show(const spoa::geoip::GeoValue& v) {
  using K = spoa::geoip::GeoValue::Kind;
  switch (v.kind) {
    case K::boolean:
      return std::string("bool ") + (v.boolean ? "true" : "false");
    case K::int32:
      return "int32 " + std::to_string(v.int32);
    case K::uint32:
      return "uint32 " + std::to_string(v.uint32);
    case K::uint64:
      return "uint64 " + std::to_string(v.uint64);
    case K::string:
      return "string " + std::string(v.bytes);
    case K::ipv4:
    case K::ipv6: {
      // inet_ntop, not IpAddress: an IPv4-mapped value from the database must show as such.
      char text[INET6_ADDRSTRLEN] = {};
      inet_ntop(v.kind == K::ipv4 ? AF_INET : AF_INET6, v.ip, text, sizeof text);
      return (v.kind == K::ipv4 ? "ipv4 " : "ipv6 ") + std::string(text);
    }
    case K::binary: {
      std::string hex;
      for (unsigned char c : v.bytes) {
        static constexpr char d[] = "0123456789abcdef";
        hex += d[c >> 4];
        hex += d[c & 15];
      }
      return "binary " + hex;
    }
  }
  return "?";
}

using Answer = std::map<std::string, std::string>;

inline Answer answer(const spoa::geoip::Geoip& geoip, std::string_view address) {
  Answer out;
  geoip.answer(*spoa::geoip::IpAddress::parse(address),
               [&](std::string_view name, const spoa::geoip::GeoValue& v) {
                 out[std::string(name)] = show(v);
               });
  return out;
}

// A folder of its own under the test's temporary directory.
inline std::filesystem::path scratch_dir(std::string_view name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("spoa-geoip-" + std::string(name) + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace geoip_test
