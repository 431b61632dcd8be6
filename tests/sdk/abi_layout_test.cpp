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

TEST(AbiLayout, The10TablePrefixIsUnchangedAnd11AppendsAfterIt) {
  // A 1.0 plugin reads these offsets: they can never move (x86-64 / AArch64 LP64).
  EXPECT_EQ(offsetof(spoa_host_api, log), 16u);
  EXPECT_EQ(offsetof(spoa_host_api, claimed_messages), 56u);
  EXPECT_EQ(offsetof(spoa_host_api, instance_name), 64u);
  // Append-only: the last 1.1 entry ends the table, so a struct_size check covers each.
  EXPECT_EQ(offsetof(spoa_host_api, metric_set) + sizeof(spoa_host_api::metric_set),
            sizeof(spoa_host_api));
}

TEST(AbiLayout, ValuesAndArgumentsHaveRoomAndKeepThe10Offsets) {
  // Type and union stay where a 1.0 plugin wrote them (the host reads its values as 1.1).
  EXPECT_EQ(offsetof(spoa_value, type), 0u);
  EXPECT_EQ(offsetof(spoa_value, u), 8u);
  EXPECT_EQ(sizeof(spoa_value), 32u);
  EXPECT_EQ(offsetof(spoa_arg, value), 16u);
  EXPECT_EQ(sizeof(spoa_arg), 64u);
  // The descriptor grew: its size tells a 1.0-built plugin (48 bytes) from a 1.1 one.
  EXPECT_EQ(offsetof(spoa_plugin_descriptor, shutdown) + sizeof(spoa_shutdown_fn), 48u);
  EXPECT_GT(sizeof(spoa_plugin_descriptor), 48u);
}

TEST(AbiLayout, TheDescriptorMacroFillsEveryField) {
  static int (*const init)(const spoa_host_api*, spoa_instance*, const spoa_config_entry*, size_t,
                           void**, char*, size_t) = nullptr;
  const spoa_plugin_descriptor d = SPOA_PLUGIN_DESCRIPTOR_INIT(0, "n", "v", init, nullptr);
  EXPECT_EQ(d.struct_size, sizeof(spoa_plugin_descriptor));
  EXPECT_EQ(d.abi_major, static_cast<uint32_t>(SPOA_ABI_MAJOR));
  EXPECT_EQ(d.abi_minor, 0u);
  EXPECT_EQ(d.sdk_minor, static_cast<uint32_t>(SPOA_ABI_MINOR));
  EXPECT_EQ(d.reserved, 0u);
}

TEST(AbiLayout, ConfigGetFindsATablesMemberInC) {
  spoa_config_value leaf{};
  leaf.struct_size = sizeof leaf;
  leaf.type = SPOA_CONFIG_INT;
  leaf.u.integer = 7;
  const spoa_config_member members[] = {{{"other", 5}, &leaf}, {{"key", 3}, &leaf}};
  spoa_config_value table{};
  table.struct_size = sizeof table;
  table.type = SPOA_CONFIG_TABLE;
  table.u.table.members = members;
  table.u.table.count = 2;
  EXPECT_EQ(spoa_config_get(&table, "key"), &leaf);
  EXPECT_EQ(spoa_config_get(&table, "ke"), nullptr);
  EXPECT_EQ(spoa_config_get(&table, "missing"), nullptr);
  EXPECT_EQ(spoa_config_get(&leaf, "key"), nullptr);
  EXPECT_EQ(spoa_config_get(nullptr, "key"), nullptr);
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
  EXPECT_EQ(SPOA_ERR_HOST_FAILURE, 7);
  EXPECT_EQ(SPOA_CONFIG_STRING, 1);
  EXPECT_EQ(SPOA_CONFIG_TABLE, 6);
  EXPECT_EQ(SPOA_METRIC_COUNTER, 0);
  EXPECT_EQ(SPOA_METRIC_HISTOGRAM, 1);
  EXPECT_EQ(SPOA_METRIC_GAUGE, 2);
  EXPECT_EQ(SPOA_REQUEST_POOL, 1u);
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
