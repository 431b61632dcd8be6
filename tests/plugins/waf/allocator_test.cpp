// The allocator report the plugin logs at start. This test process runs with whatever
// malloc its build links (glibc's, or a sanitizer's); the jemalloc case is checked on the
// installed package, whose drop-in preloads it (installed_package.sh).
#include <gtest/gtest.h>

#include "allocator.hpp"

namespace {

TEST(Allocator, TheObjectProvidingMallocIsNamed) {
  const std::string provider = spoa::waf::malloc_provider();
  ASSERT_FALSE(provider.empty());
  EXPECT_EQ(provider.find('/'), std::string::npos) << provider;
  const std::string report = spoa::waf::allocator_report();
  EXPECT_NE(report.find(provider), std::string::npos) << report;
  // The C library's malloc comes with the hint that jemalloc is the faster choice.
  EXPECT_EQ(provider.rfind("libc.so", 0) == 0, report.find("jemalloc") != std::string::npos)
      << report;
}

}  // namespace
