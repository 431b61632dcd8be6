#include "metrics/http.hpp"

#include <fmt/format.h>

namespace spoa::metrics {

namespace {
std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

bool is_token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}
}  // namespace

HeadStatus parse_request_head(std::string_view buffer, size_t max_bytes, HttpRequest& request) {
  const std::string_view window = buffer.substr(0, max_bytes);
  size_t end = window.find("\r\n\r\n");
  if (end == std::string_view::npos) end = window.find("\n\n");
  if (end == std::string_view::npos) {
    return buffer.size() >= max_bytes ? HeadStatus::too_large : HeadStatus::incomplete;
  }
  std::string_view line = window.substr(0, window.find('\n'));
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const size_t first = line.find(' ');
  const size_t last = line.rfind(' ');
  if (first == std::string_view::npos || first == last) return HeadStatus::malformed;
  const std::string_view method = line.substr(0, first);
  const std::string_view target = line.substr(first + 1, last - first - 1);
  const std::string_view version = line.substr(last + 1);
  if (method.empty() || target.empty() || target.front() != '/' ||
      version.substr(0, 7) != "HTTP/1.") {
    return HeadStatus::malformed;
  }
  for (const char c : method) {
    if (!is_token_char(c)) return HeadStatus::malformed;
  }
  request.method.assign(method);
  request.target.assign(target);
  return HeadStatus::complete;
}

std::string serialize(const HttpResponse& response, bool head_only) {
  std::string out = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}Connection: close\r\n\r\n",
      response.status, reason_phrase(response.status), response.content_type, response.body.size(),
      response.allow_header ? "Allow: GET, HEAD\r\n" : "");
  if (!head_only) out += response.body;
  return out;
}

}  // namespace spoa::metrics
