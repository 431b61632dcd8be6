#include "config/duration.hpp"

#include <gtest/gtest.h>

namespace spoa::config {
namespace {

using namespace std::chrono_literals;

std::chrono::milliseconds parse_ok(std::string_view text) {
  std::string error;
  const auto duration = parse_duration(text, error);
  EXPECT_TRUE(duration.has_value()) << text << ": " << error;
  return duration.value_or(-1ms);
}

std::string parse_error(std::string_view text) {
  std::string error;
  EXPECT_FALSE(parse_duration(text, error).has_value()) << text;
  return error;
}

TEST(Duration, EachUnit) {
  EXPECT_EQ(parse_ok("500ms"), 500ms);
  EXPECT_EQ(parse_ok("5s"), 5s);
  EXPECT_EQ(parse_ok("10m"), 10min);
  EXPECT_EQ(parse_ok("1h"), 1h);
}

TEST(Duration, SumOfParts) {
  EXPECT_EQ(parse_ok("1m30s"), 90s);
  EXPECT_EQ(parse_ok("1h2m3s4ms"), 1h + 2min + 3s + 4ms);
}

TEST(Duration, ZeroIsADuration) {
  EXPECT_EQ(parse_ok("0s"), 0ms);
}

TEST(Duration, RejectsBareNumberNamingTheUnits) {
  EXPECT_EQ(parse_error("5"),
            "missing unit in \"5\": write \"5s\" or \"5ms\" (units: ms, s, m, h)");
}

TEST(Duration, RejectsUnknownUnit) {
  EXPECT_EQ(parse_error("250us"), "unknown unit \"us\" in \"250us\" (units: ms, s, m, h)");
  EXPECT_EQ(parse_error("5S"), "unknown unit \"S\" in \"5S\" (units: ms, s, m, h)");
  EXPECT_EQ(parse_error("1d"), "unknown unit \"d\" in \"1d\" (units: ms, s, m, h)");
}

TEST(Duration, RejectsOtherShapes) {
  const std::string expected =
      "expected a duration such as \"500ms\", \"5s\", \"10m\" or \"1h\", got ";
  EXPECT_EQ(parse_error("s"), expected + "\"s\"");
  EXPECT_EQ(parse_error("-5s"), expected + "\"-5s\"");
  EXPECT_EQ(parse_error("1.5s"), expected + "\"1.5s\"");
  EXPECT_EQ(parse_error("5 s"), expected + "\"5 s\"");
  EXPECT_EQ(parse_error("1m30"), expected + "\"1m30\"");
  EXPECT_EQ(parse_error(""),
            "expected a duration such as \"500ms\", \"5s\", \"10m\" or \"1h\", got an empty "
            "string");
}

TEST(Duration, RejectsMoreThanAYear) {
  EXPECT_EQ(parse_ok("8760h"), max_duration);
  EXPECT_EQ(parse_error("8761h"), "\"8761h\" is longer than the maximum of 8760h");
  EXPECT_EQ(parse_error("8760h1ms"), "\"8760h1ms\" is longer than the maximum of 8760h");
  EXPECT_EQ(parse_error("99999999999999999999999h"),
            "\"99999999999999999999999h\" is longer than the maximum of 8760h");
}

TEST(Duration, FormatReadsBack) {
  EXPECT_EQ(format_duration(0ms), "0s");
  EXPECT_EQ(format_duration(250ms), "250ms");
  EXPECT_EQ(format_duration(5s), "5s");
  EXPECT_EQ(format_duration(10min), "10m");
  EXPECT_EQ(format_duration(90s), "1m30s");
  EXPECT_EQ(format_duration(1h + 1ms), "1h1ms");
  for (const std::chrono::milliseconds duration :
       {1ms, 999ms, 1001ms, 61000ms, 3601000ms, std::chrono::milliseconds(25h)}) {
    EXPECT_EQ(parse_ok(format_duration(duration)), duration);
  }
}

}  // namespace
}  // namespace spoa::config
