#pragma once
// The little HTTP/1.x the metrics endpoint speaks: parse a request head, build a response.
// No Asio here, so the rules are unit-tested without sockets.
#include <cstddef>
#include <string>
#include <string_view>

namespace spoa::metrics {

struct HttpRequest {
  std::string method;
  std::string target;  // path and query, as sent
};

enum class HeadStatus {
  incomplete,  // no blank line yet: read more
  complete,    // `request` is filled
  too_large,   // no blank line within the limit: 431
  malformed,   // not an HTTP/1.x request line: 400
};

// Looks for the end of the head ("\r\n\r\n", or "\n\n" from lenient clients) within the
// first `max_bytes` of `buffer`, and parses the request line ("GET /metrics HTTP/1.1").
HeadStatus parse_request_head(std::string_view buffer, size_t max_bytes, HttpRequest& request);

struct HttpResponse {
  int status = 200;
  std::string content_type;
  std::string body;
  bool allow_header = false;  // 405 says which methods are allowed
};

// HTTP/1.1 with Content-Length and Connection: close; without the body for HEAD.
std::string serialize(const HttpResponse& response, bool head_only);

// The endpoint's routing: GET or HEAD /metrics (any query string) gets `body()`, any other
// path 404, another method 405.
template <typename Render>
HttpResponse route(const HttpRequest& request, std::string_view content_type, Render&& body) {
  const std::string_view target = request.target;
  const std::string_view path = target.substr(0, target.find('?'));
  if (path != "/metrics") return {404, "text/plain; charset=utf-8", "not found; try /metrics\n"};
  if (request.method != "GET" && request.method != "HEAD") {
    return {405, "text/plain; charset=utf-8", "only GET and HEAD\n", true};
  }
  return {200, std::string(content_type), body()};
}

}  // namespace spoa::metrics
