#include "scrape.hpp"

#include <poll.h>
#include <unistd.h>

#include <limits>
#include <sstream>
#include <stdexcept>

#include "support/socket.hpp"

namespace spoa::mtest {

std::set<std::string> Scrape::names() const {
  std::set<std::string> out;
  for (const auto& [series, value] : samples)
    out.insert(series.substr(0, series.find('{')));
  return out;
}

Scrape parse_exposition(const std::string& body) {
  Scrape scrape;
  scrape.body = body;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    if (space == std::string::npos) throw std::runtime_error("bad exposition line: " + line);
    const std::string value = line.substr(space + 1);
    double parsed = 0;
    if (value == "+Inf") {
      parsed = std::numeric_limits<double>::infinity();
    } else {
      parsed = std::stod(value);
    }
    if (!scrape.samples.emplace(line.substr(0, space), parsed).second) {
      throw std::runtime_error("duplicate series: " + line);
    }
  }
  return scrape;
}

Scrape scrape(const std::string& address, std::chrono::milliseconds timeout) {
  std::string error;
  spoa::test::Fd fd = spoa::test::connect_to(address, timeout, error);
  if (fd.get() < 0)
    throw std::runtime_error("metrics: cannot connect to " + address + ": " + error);
  const std::string request = "GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n";
  if (!spoa::test::send_all(
          fd.get(), {reinterpret_cast<const uint8_t*>(request.data()), request.size()}, timeout)) {
    throw std::runtime_error("metrics: cannot send the request");
  }
  std::string response;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) throw std::runtime_error("metrics: no whole response in time");
    pollfd p{fd.get(), POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buffer[16384];
    const ssize_t n = read(fd.get(), buffer, sizeof buffer);
    if (n <= 0) break;  // Connection: close
    response.append(buffer, static_cast<size_t>(n));
  }
  const size_t head_end = response.find("\r\n\r\n");
  if (head_end == std::string::npos) throw std::runtime_error("metrics: no HTTP head: " + response);
  const std::string head = response.substr(0, head_end);
  Scrape result = parse_exposition(response.substr(head_end + 4));
  result.status = std::stoi(head.substr(9, 3));
  const size_t type = head.find("Content-Type: ");
  if (type != std::string::npos) {
    result.content_type = head.substr(type + 14, head.find("\r\n", type) - type - 14);
  }
  return result;
}

}  // namespace spoa::mtest
