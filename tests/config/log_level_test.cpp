#include "config/log_level.hpp"

#include <gtest/gtest.h>

namespace spoa::config {
namespace {

TEST(LogLevel, ParsesEachLevel) {
  EXPECT_EQ(parse_log_level("trace"), LogLevel::trace);
  EXPECT_EQ(parse_log_level("debug"), LogLevel::debug);
  EXPECT_EQ(parse_log_level("info"), LogLevel::info);
  EXPECT_EQ(parse_log_level("warn"), LogLevel::warn);
  EXPECT_EQ(parse_log_level("error"), LogLevel::error);
}

TEST(LogLevel, RejectsOtherSpellings) {
  EXPECT_EQ(parse_log_level("INFO"), std::nullopt);
  EXPECT_EQ(parse_log_level("warning"), std::nullopt);
  EXPECT_EQ(parse_log_level(""), std::nullopt);
}

TEST(LogLevel, PrintsAsWritten) {
  for (const auto level :
       {LogLevel::trace, LogLevel::debug, LogLevel::info, LogLevel::warn, LogLevel::error}) {
    EXPECT_EQ(parse_log_level(to_string(level)), level);
  }
}

TEST(LogTarget, ParsesEachTarget) {
  EXPECT_EQ(parse_log_target("auto"), LogTarget::automatic);
  EXPECT_EQ(parse_log_target("stderr"), LogTarget::stderr_stream);
  EXPECT_EQ(parse_log_target("journal"), LogTarget::journal);
  EXPECT_EQ(parse_log_target("syslog"), std::nullopt);
  EXPECT_EQ(to_string(LogTarget::automatic), "auto");
}

}  // namespace
}  // namespace spoa::config
