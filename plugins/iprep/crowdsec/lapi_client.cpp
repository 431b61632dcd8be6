#include "lapi_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <stdexcept>

namespace spoa::iprep::crowdsec {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {
// The whole active set of a busy LAPI with community blocklists is tens of MB.
constexpr std::uint64_t kBodyLimit = 512ull * 1024 * 1024;
}  // namespace

std::optional<LapiEndpoint> parse_lapi_url(std::string_view url) {
  constexpr std::string_view scheme = "http://";
  if (url.substr(0, scheme.size()) != scheme) return std::nullopt;
  url.remove_prefix(scheme.size());
  const std::size_t slash = url.find('/');
  std::string_view authority = url.substr(0, slash);
  std::string path = slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
  if (path.back() != '/') path += '/';
  LapiEndpoint e;
  e.base_path = path;
  e.port = "80";
  if (authority.empty()) return std::nullopt;
  if (authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    e.host = std::string(authority.substr(1, close - 1));
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':' || rest.size() < 2) return std::nullopt;
      e.port = std::string(rest.substr(1));
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    e.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) e.port = std::string(authority.substr(colon + 1));
  }
  if (e.host.empty() || e.port.empty()) return std::nullopt;
  for (char c : e.port)
    if (c < '0' || c > '9') return std::nullopt;
  return e;
}

LapiClient::LapiClient(LapiEndpoint endpoint, std::string api_key,
                       std::chrono::milliseconds timeout)
    : endpoint_(std::move(endpoint)), api_key_(std::move(api_key)), timeout_(timeout) {}

std::string LapiClient::url_of(const std::string& target) const {
  const bool v6 = endpoint_.host.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + endpoint_.host + "]" : endpoint_.host) + ":" + endpoint_.port +
         endpoint_.base_path + target;
}

std::string LapiClient::get(const std::string& target) const {
  // One connection per pull: a pull every few seconds does not need keep-alive, and a fresh
  // connection never inherits a half-read answer after a timeout.
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  beast::tcp_stream stream(io);
  beast::flat_buffer buffer;
  http::request<http::empty_body> request{http::verb::get, endpoint_.base_path + target, 11};
  request.set(http::field::host, endpoint_.host);
  request.set(http::field::user_agent, "spoa-host-iprep");
  request.set("X-Api-Key", api_key_);
  http::response_parser<http::string_body> parser;
  parser.body_limit(kBodyLimit);
  beast::error_code failure;
  std::string stage = "resolve";

  const auto fail = [&](beast::error_code ec, const char* what) {
    failure = ec;
    stage = what;
  };
  // The timeout covers the whole exchange.
  stream.expires_after(timeout_);
  resolver.async_resolve(
      endpoint_.host, endpoint_.port,
      [&](beast::error_code ec, asio::ip::tcp::resolver::results_type results) {
        if (ec) return fail(ec, "resolve");
        stream.async_connect(results, [&](beast::error_code ec2, const auto&) {
          if (ec2) return fail(ec2, "connect");
          http::async_write(stream, request, [&](beast::error_code ec3, std::size_t) {
            if (ec3) return fail(ec3, "send");
            http::async_read(stream, buffer, parser, [&](beast::error_code ec4, std::size_t) {
              if (ec4) return fail(ec4, "read");
              stage.clear();
            });
          });
        });
      });
  io.run();
  if (failure || !stage.empty()) {
    const std::string why = failure == beast::error::timeout
                                ? "no answer within " + std::to_string(timeout_.count()) + "ms"
                                : failure.message();
    throw std::runtime_error(url_of(target) + ": " + stage + " failed: " + why);
  }
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  auto response = parser.release();
  if (response.result() != http::status::ok) {
    std::string body = response.body().substr(0, 200);
    throw std::runtime_error(url_of(target) + ": HTTP " + std::to_string(response.result_int()) +
                             " " + body);
  }
  return std::move(response.body());
}

}  // namespace spoa::iprep::crowdsec
