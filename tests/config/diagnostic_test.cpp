#include "config/diagnostic.hpp"

#include <gtest/gtest.h>

namespace spoa::config {
namespace {

TEST(Diagnostic, FileLineColumnMessage) {
  EXPECT_EQ((Diagnostic{{"/etc/spoa-host/spoa-host.toml", 12, 7}, "bad"}.to_string()),
            "/etc/spoa-host/spoa-host.toml:12:7: bad");
}

TEST(Diagnostic, WithoutColumn) {
  EXPECT_EQ((Diagnostic{{"a.toml", 3, 0}, "bad"}.to_string()), "a.toml:3: bad");
}

TEST(Diagnostic, WithoutLine) {
  EXPECT_EQ((Diagnostic{{"a.toml", 0, 0}, "cannot open"}.to_string()), "a.toml: cannot open");
}

}  // namespace
}  // namespace spoa::config
