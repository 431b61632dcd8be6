// plugin.h describes the same memory to a C plugin and to the C++ host.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "abi_layout.h"

namespace {

struct Entry {
  const char* expression;
  size_t value;
};

#define SPOA_AS_ENTRY(expr) Entry{#expr, static_cast<size_t>(expr)},
const std::vector<Entry> cxx_layout = {SPOA_ABI_LAYOUT(SPOA_AS_ENTRY)};

TEST(AbiLayout, CAndCxxAgreeOnEverySizeAndOffset) {
  ASSERT_EQ(spoa_c_layout_count, cxx_layout.size());
  for (size_t i = 0; i < cxx_layout.size(); ++i)
    EXPECT_EQ(spoa_c_layout[i], cxx_layout[i].value) << cxx_layout[i].expression;
}

TEST(AbiLayout, EnumsAreIntSizedAsTheirFixedWidthNeighbours) {
  // spoa_value.type is a uint32_t; the enums passed by value must be as wide.
  EXPECT_EQ(sizeof(spoa_scope), sizeof(uint32_t));
  EXPECT_EQ(sizeof(spoa_result), sizeof(uint32_t));
}

}  // namespace
