// plugin.h describes the same memory and the same calls to a C plugin and to the C++ host.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
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

TEST(AbiLayout, ShortEnumsChangeNothing) {
  // The flag took effect: an enum of small values is one byte...
  EXPECT_LT(spoa_c_short_enums_result_size, sizeof(int32_t));
  // ...and still no size or offset of the ABI moved.
  ASSERT_EQ(spoa_c_short_enums_layout_count, cxx_layout.size());
  for (size_t i = 0; i < cxx_layout.size(); ++i)
    EXPECT_EQ(spoa_c_short_enums_layout[i], cxx_layout[i].value) << cxx_layout[i].expression;
}

// Every enum crosses the ABI as an int32_t (values) or a uint32_t (spoa_value.type).
static_assert(std::is_same_v<spoa_message_handler,
                             int32_t (*)(void*, spoa_request*, spoa_str, const spoa_arg*, size_t)>);
static_assert(
    std::is_same_v<decltype(spoa_host_api::log), void (*)(spoa_instance*, int32_t, spoa_str)>);
static_assert(std::is_same_v<decltype(spoa_host_api::register_message),
                             int32_t (*)(spoa_instance*, spoa_str, spoa_message_handler, void*)>);
static_assert(std::is_same_v<decltype(spoa_host_api::set_var),
                             int32_t (*)(spoa_request*, int32_t, spoa_str, const spoa_value*)>);
static_assert(std::is_same_v<decltype(spoa_host_api::unset_var),
                             int32_t (*)(spoa_request*, int32_t, spoa_str)>);
static_assert(
    std::is_same_v<decltype(spoa_host_api::complete), int32_t (*)(spoa_request*, int32_t)>);
static_assert(std::is_same_v<decltype(spoa_host_api::claimed_messages),
                             size_t (*)(spoa_instance*, spoa_str*, size_t)>);
static_assert(std::is_same_v<decltype(spoa_value::type), uint32_t>);
// The entry symbol is declared by the header, with the type the host looks it up as.
static_assert(std::is_same_v<decltype(&spoa_plugin_entry_v1), spoa_plugin_entry_fn>);

TEST(AbiLayout, ClaimedMessagesIsTheLastEntryOfTheTable) {
  // Append-only: a later minor adds after it, so a reader's struct_size check covers it.
  EXPECT_EQ(offsetof(spoa_host_api, claimed_messages) + sizeof(spoa_host_api::claimed_messages),
            sizeof(spoa_host_api));
  EXPECT_GT(offsetof(spoa_host_api, claimed_messages), offsetof(spoa_host_api, complete));
}

TEST(AbiLayout, TheConstantsAreTheDocumentedNumbers) {
  // Plugins built against 1.0 carry these numbers in their code: they can never change.
  EXPECT_EQ(SPOA_OK, 0);
  EXPECT_EQ(SPOA_ERR_INVALID_ARGUMENT, 1);
  EXPECT_EQ(SPOA_ERR_BAD_NAME, 2);
  EXPECT_EQ(SPOA_ERR_TOO_BIG, 3);
  EXPECT_EQ(SPOA_ERR_NOT_ALLOWED, 4);
  EXPECT_EQ(SPOA_ERR_DUPLICATE, 5);
  EXPECT_EQ(SPOA_ERR_NOT_CLAIMED, 6);
  EXPECT_EQ(SPOA_DONE, 0);
  EXPECT_EQ(SPOA_FAILED, 1);
  EXPECT_EQ(SPOA_PENDING, 2);
  EXPECT_EQ(SPOA_SCOPE_PROC, 0);
  EXPECT_EQ(SPOA_SCOPE_RES, 4);
  EXPECT_EQ(SPOA_LOG_TRACE, 0);
  EXPECT_EQ(SPOA_LOG_ERROR, 4);
  EXPECT_EQ(SPOA_TYPE_NULL, 0);
  EXPECT_EQ(SPOA_TYPE_BINARY, 9);
}

TEST(AbiLayout, ACHandlerAndTableWithTheHeadersSignaturesWork) {
  // abi_layout.c compiled them against the C view; call them through the C++ one.
  spoa_str name{"m", 1};
  EXPECT_EQ(spoa_c_handler(nullptr, nullptr, name, nullptr, 0), 42);
  EXPECT_EQ(spoa_c_table.struct_size, sizeof(spoa_host_api));
  EXPECT_EQ(spoa_c_table.set_var(nullptr, std::numeric_limits<int32_t>::min(), name, nullptr),
            SPOA_OK);
  EXPECT_EQ(spoa_c_table.complete(nullptr, 42), SPOA_OK);
  EXPECT_EQ(spoa_c_table.claimed_messages(nullptr, nullptr, 0), 0u);
}

}  // namespace
