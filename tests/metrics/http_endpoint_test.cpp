// The /metrics endpoint in-process: routing, the request head's bounds, slow and excess
// clients, bind errors, and a unix socket address.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include "config/listen_address.hpp"
#include "metrics/http.hpp"
#include "metrics/http_endpoint.hpp"

namespace spoa::metrics {
namespace {

using namespace std::chrono_literals;

config::ListenAddress address(const std::string& text) {
  std::string error;
  auto parsed = config::parse_listen_address(text, error);
  EXPECT_TRUE(parsed) << error;
  return *parsed;
}

uint16_t port_of(const std::string& bound) {
  return static_cast<uint16_t>(std::stoi(bound.substr(bound.rfind(':') + 1)));
}

int connect_tcp(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int connect_unix(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Reads until EOF or `timeout`; `closed` says whether EOF (or a reset) came.
std::string read_all(int fd, std::chrono::milliseconds timeout, bool* closed = nullptr) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (closed != nullptr) *closed = false;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return out;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return out;
    char buffer[4096];
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n <= 0) {
      if (closed != nullptr) *closed = true;
      return out;
    }
    out.append(buffer, static_cast<size_t>(n));
  }
}

std::string exchange(int fd, const std::string& request) {
  EXPECT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  bool closed = false;
  std::string response = read_all(fd, 30s, &closed);
  EXPECT_TRUE(closed) << "the endpoint must close after one response";
  close(fd);
  return response;
}

class Endpoint : public testing::Test {
 protected:
  void start(HttpEndpoint::Limits limits = {}) {
    std::string error;
    endpoint_ = HttpEndpoint::bind(
        address("127.0.0.1:0"),
        [this] {
          ++renders_;
          return std::string("# TYPE up gauge\nup 1\n");
        },
        error, limits);
    ASSERT_TRUE(endpoint_) << error;
    endpoint_->start();
    port_ = port_of(endpoint_->local_addresses().at(0));
  }
  std::unique_ptr<HttpEndpoint> endpoint_;
  std::atomic<int> renders_{0};
  uint16_t port_ = 0;
};

TEST(HttpHead, ParsesCompleteHeadsOnly) {
  HttpRequest r;
  EXPECT_EQ(parse_request_head("GET /metrics HTTP/1.1\r\nHost: x\r\n", 8192, r),
            HeadStatus::incomplete);
  EXPECT_EQ(parse_request_head("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 8192, r),
            HeadStatus::complete);
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/metrics");
  EXPECT_EQ(parse_request_head("GET /metrics?x=1 HTTP/1.0\n\n", 8192, r), HeadStatus::complete);
  EXPECT_EQ(r.target, "/metrics?x=1");
  EXPECT_EQ(parse_request_head("GARBAGE\r\n\r\n", 8192, r), HeadStatus::malformed);
  EXPECT_EQ(parse_request_head("GET metrics HTTP/1.1\r\n\r\n", 8192, r), HeadStatus::malformed);
  EXPECT_EQ(parse_request_head("GET /metrics SPDY/3\r\n\r\n", 8192, r), HeadStatus::malformed);
  EXPECT_EQ(parse_request_head(std::string(100, 'a'), 100, r), HeadStatus::too_large);
  // The blank line must come within the limit, even if more bytes already arrived.
  EXPECT_EQ(parse_request_head("GET / HTTP/1.1\r\n" + std::string(200, 'x') + "\r\n\r\n", 100, r),
            HeadStatus::too_large);
}

TEST(HttpHead, RoutesAndSerialises) {
  const auto body = [] { return std::string("b"); };
  EXPECT_EQ(route({"GET", "/metrics"}, "t", body).status, 200);
  EXPECT_EQ(route({"HEAD", "/metrics?a"}, "t", body).status, 200);
  EXPECT_EQ(route({"GET", "/"}, "t", body).status, 404);
  EXPECT_EQ(route({"GET", "/metricsx"}, "t", body).status, 404);
  const HttpResponse post = route({"POST", "/metrics"}, "t", body);
  EXPECT_EQ(post.status, 405);
  EXPECT_NE(serialize(post, false).find("Allow: GET, HEAD\r\n"), std::string::npos);
  const std::string head = serialize({200, "t", "body"}, true);
  EXPECT_EQ(head,
            "HTTP/1.1 200 OK\r\nContent-Type: t\r\nContent-Length: 4\r\nConnection: close\r\n\r\n");
}

TEST_F(Endpoint, ServesMetricsWithTheExpositionContentType) {
  start();
  const std::string response =
      exchange(connect_tcp(port_), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << response;
  EXPECT_NE(response.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(response.find("Connection: close\r\n"), std::string::npos);
  EXPECT_NE(response.find("\r\n\r\n# TYPE up gauge\nup 1\n"), std::string::npos) << response;
}

TEST_F(Endpoint, AnswersOtherPathsAndBadRequests) {
  start();
  EXPECT_EQ(exchange(connect_tcp(port_), "GET / HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404", 0), 0u);
  EXPECT_EQ(
      exchange(connect_tcp(port_), "DELETE /metrics HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 405", 0),
      0u);
  EXPECT_EQ(exchange(connect_tcp(port_), "\x16\x03\x01 hello\r\n\r\n").rfind("HTTP/1.1 400", 0),
            0u);
  const std::string big = "GET /metrics HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n";
  EXPECT_EQ(exchange(connect_tcp(port_), big).rfind("HTTP/1.1 431", 0), 0u);
  const std::string head = exchange(connect_tcp(port_), "HEAD /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_EQ(head.substr(head.find("\r\n\r\n") + 4), "");
  EXPECT_EQ(renders_.load(), 1);  // only the HEAD rendered; the errors did not
}

// Waits for events only: the bounds below are how long a failure may take to show.
constexpr auto event_timeout = 30s;

// Only the request timeout can close a client that sent half a request line; when it does
// is not the test's business.
TEST_F(Endpoint, CutsOffSlowClients) {
  start({.timeout = 300ms, .max_request_bytes = 8192, .max_clients = 16});
  const int slow = connect_tcp(port_);
  ASSERT_GE(slow, 0);
  ASSERT_EQ(write(slow, "GET /met", 8), 8);  // and nothing more
  bool closed = false;
  EXPECT_EQ(read_all(slow, event_timeout, &closed), "");
  EXPECT_TRUE(closed);
  close(slow);
}

// A request timeout far beyond the test's own bounds: the slow client holds its slot for
// the whole test, and the other client's request cannot run out of time however slowly
// the endpoint's thread gets the CPU.
TEST_F(Endpoint, ServesOthersWhileASlowClientWaits) {
  start({.timeout = 120s, .max_request_bytes = 8192, .max_clients = 16});
  const int slow = connect_tcp(port_);
  ASSERT_GE(slow, 0);
  ASSERT_EQ(write(slow, "GET /met", 8), 8);  // and nothing more
  const std::string ok = exchange(connect_tcp(port_), "GET /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200", 0), 0u);
  close(slow);
}

TEST_F(Endpoint, ClosesClientsPastTheLimitAtOnce) {
  start({.timeout = 120s, .max_request_bytes = 8192, .max_clients = 2});
  // The kernel queues the connections in order and the endpoint accepts them in that
  // order, so a and b hold the two slots when c is accepted, however late that is.
  const int a = connect_tcp(port_);
  const int b = connect_tcp(port_);
  const int c = connect_tcp(port_);
  bool closed = false;
  EXPECT_EQ(read_all(c, event_timeout, &closed), "");
  EXPECT_TRUE(closed) << "a third client must be closed while two are served";
  close(c);
  close(a);
  close(b);
  // Once they are gone (the endpoint sees their EOF when it gets to it), a scrape works
  // again.
  std::string response;
  const auto deadline = std::chrono::steady_clock::now() + event_timeout;
  while (response.rfind("HTTP/1.1 200", 0) != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    const int fd = connect_tcp(port_);
    const std::string request = "GET /metrics HTTP/1.1\r\n\r\n";
    if (write(fd, request.data(), request.size()) < 0) {
      close(fd);
      continue;
    }
    response = read_all(fd, event_timeout);
    close(fd);
  }
  EXPECT_EQ(response.rfind("HTTP/1.1 200", 0), 0u);
}

TEST(EndpointBind, ReportsTheMetricsAddressOnFailure) {
  std::string error;
  auto first = HttpEndpoint::bind(
      address("127.0.0.1:0"), [] { return std::string(); }, error);
  ASSERT_TRUE(first) << error;
  const std::string taken = first->local_addresses().at(0);
  auto second = HttpEndpoint::bind(
      address(taken), [] { return std::string(); }, error);
  EXPECT_FALSE(second);
  EXPECT_EQ(error.rfind("metrics listen " + taken + ": ", 0), 0u) << error;
}

TEST(EndpointBind, ServesOnAUnixSocketAndRemovesItAfterwards) {
  char dir_template[] = "/tmp/spoa-metrics-test-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::string path = std::string(dir_template) + "/metrics.sock";
  {
    std::string error;
    auto endpoint = HttpEndpoint::bind(
        address("unix:" + path), [] { return std::string("up 1\n"); }, error);
    ASSERT_TRUE(endpoint) << error;
    endpoint->start();
    const std::string response = exchange(connect_unix(path), "GET /metrics HTTP/1.1\r\n\r\n");
    EXPECT_NE(response.find("\r\n\r\nup 1\n"), std::string::npos) << response;
  }
  EXPECT_NE(access(path.c_str(), F_OK), 0) << "the socket file must go with the endpoint";
  rmdir(dir_template);
}

}  // namespace
}  // namespace spoa::metrics
