// The log's rate limit (token bucket, suppression summaries) and its journal fields.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "log/log.hpp"

namespace spoa::log {
namespace {

using namespace std::chrono_literals;

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

TEST(TokenBucket, BurstThenSteadyRate) {
  TokenBucket bucket(RateLimit{3, 2});
  const auto t0 = TokenBucket::Clock::time_point{} + 100s;
  EXPECT_TRUE(bucket.take(t0));
  EXPECT_TRUE(bucket.take(t0));
  EXPECT_TRUE(bucket.take(t0));
  EXPECT_FALSE(bucket.take(t0));
  EXPECT_FALSE(bucket.take(t0 + 400ms));  // 0.8 token
  EXPECT_TRUE(bucket.take(t0 + 500ms));   // 1 token after 0.5 s at 2/s
  EXPECT_FALSE(bucket.take(t0 + 500ms));
  // A long quiet period refills up to the burst, no more.
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(bucket.take(t0 + 1h));
  EXPECT_FALSE(bucket.take(t0 + 1h));
}

TEST(JournalFields, OneFieldPerFactThatIsSet) {
  const auto fields = detail::journal_fields(Level::warn, "10.0.0.1:5: protocol error",
                                             {"10.0.0.1:5", "geo", "check", 4u});
  EXPECT_EQ(fields,
            (std::vector<std::string>{"MESSAGE=10.0.0.1:5: protocol error", "PRIORITY=4",
                                      "SYSLOG_IDENTIFIER=spoa-host", "SPOA_PEER=10.0.0.1:5",
                                      "SPOA_PLUGIN=geo", "SPOA_MESSAGE=check", "SPOA_STATUS=4"}));
  const auto plain = detail::journal_fields(Level::info, "hello", {});
  EXPECT_EQ(plain, (std::vector<std::string>{"MESSAGE=hello", "PRIORITY=6",
                                             "SYSLOG_IDENTIFIER=spoa-host"}));
  // Status 0 is a status (a normal DISCONNECT), not an absent one.
  const auto zero = detail::journal_fields(Level::info, "x", {.status = 0u});
  EXPECT_EQ(zero.back(), "SPOA_STATUS=0");
}

TEST(RateLimitedLog, BurstThenSuppressedThenSummarised) {
  set_target(Target::stderr_stream);
  // A refill of one line per 1000 s: exact counts, however long the loop takes to run.
  set_rate_limit({5, 0.001});
  const uint64_t before = suppressed_total(Category::protocol);
  testing::internal::CaptureStderr();
  for (int i = 0; i < 50; ++i)
    limited(Category::protocol, Level::warn, {.peer = "p"}, "p: bad frame {}", i);
  const std::string burst = testing::internal::GetCapturedStderr();
  EXPECT_EQ(count_of(burst, "bad frame"), 5u) << burst;
  EXPECT_EQ(suppressed_total(Category::protocol) - before, 45u);

  // The next line that gets through first says how many were dropped.
  set_rate_limit({5, 0.001});  // (resets the bucket: no waiting in a unit test)
  testing::internal::CaptureStderr();
  for (int i = 0; i < 20; ++i)
    limited(Category::plugin, Level::warn, {}, "plugin failed {}", i);
  flush_suppressed();
  const std::string flushed = testing::internal::GetCapturedStderr();
  EXPECT_NE(flushed.find("similar plugin error messages suppressed"), std::string::npos) << flushed;
  EXPECT_EQ(count_of(flushed, "suppressed"), 1u) << flushed;
  // Categories are independent: the plugin burst did not eat protocol tokens.
  testing::internal::CaptureStderr();
  limited(Category::io, Level::warn, {}, "io line");
  EXPECT_NE(testing::internal::GetCapturedStderr().find("io line"), std::string::npos);
  set_rate_limit({});
}

TEST(RateLimitedLog, DisabledLevelsCostNoToken) {
  set_target(Target::stderr_stream);
  set_rate_limit({1, 0.001});
  set_level(Level::error);
  const uint64_t before = suppressed_total(Category::io);
  for (int i = 0; i < 10; ++i)
    limited(Category::io, Level::debug, {}, "debug {}", i);
  EXPECT_EQ(suppressed_total(Category::io), before);
  set_level(Level::info);
  testing::internal::CaptureStderr();
  limited(Category::io, Level::warn, {}, "the one token");
  EXPECT_NE(testing::internal::GetCapturedStderr().find("the one token"), std::string::npos);
  set_rate_limit({});
}

TEST(StructuredLog, StderrStaysOneHumanLine) {
  set_target(Target::stderr_stream);
  testing::internal::CaptureStderr();
  event(Level::warn, {"1.2.3.4:5", "geo", "check", 3u}, "1.2.3.4:5: something {}", 42);
  const std::string out = testing::internal::GetCapturedStderr();
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
  EXPECT_NE(out.find("warn  1.2.3.4:5: something 42"), std::string::npos) << out;
  EXPECT_EQ(out.find("SPOA_"), std::string::npos);
}

}  // namespace
}  // namespace spoa::log
