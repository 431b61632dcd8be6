#include "spop/list.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace spop {
namespace {

TEST(ListContains, MatchesTrimmedItemsExactly) {
  EXPECT_TRUE(list_contains("pipelining,async", "async"));
  EXPECT_TRUE(list_contains(" 1.0 , 2.0 ", "2.0"));
  EXPECT_FALSE(list_contains("pipelining", "pipe"));
  EXPECT_FALSE(list_contains("pipe", "pipelining"));
  EXPECT_FALSE(list_contains("", "pipelining"));
}

TEST(ForEachItem, SkipsEmptyItems) {
  std::vector<std::string> items;
  for_each_item(",a,, b ,", [&](std::string_view s) { items.emplace_back(s); });
  EXPECT_EQ(items, (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace spop
