#include <gtest/gtest.h>

#include <random>

#include "prefix_table.hpp"

namespace spoa::iprep {
namespace {

Prefix net(const char* text) {
  return *Prefix::parse(text);
}
IpAddress ip(const char* text) {
  return *IpAddress::parse(text);
}

std::optional<std::uint32_t> value_at(const PrefixTable& t, const char* address) {
  const auto m = t.lookup(ip(address));
  if (!m) return std::nullopt;
  return m->value;
}

TEST(PrefixTable, EmptyTableMatchesNothing) {
  const PrefixTable empty;
  EXPECT_FALSE(empty.lookup(ip("10.0.0.1")));
  const PrefixTable built = PrefixTable::build({});
  EXPECT_FALSE(built.lookup(ip("10.0.0.1")));
  EXPECT_FALSE(built.lookup(ip("2001:db8::1")));
}

TEST(PrefixTable, LongestPrefixWins) {
  const auto t = PrefixTable::build({{net("10.0.0.0/8"), 1},
                                     {net("10.1.0.0/16"), 2},
                                     {net("10.1.2.0/24"), 3},
                                     {net("10.1.2.3/32"), 4}});
  EXPECT_EQ(value_at(t, "10.9.9.9"), 1u);
  EXPECT_EQ(value_at(t, "10.1.9.9"), 2u);
  EXPECT_EQ(value_at(t, "10.1.2.9"), 3u);
  EXPECT_EQ(value_at(t, "10.1.2.3"), 4u);
  EXPECT_EQ(value_at(t, "10.1.2.4"), 3u);  // right after a nested network ends
  EXPECT_EQ(value_at(t, "10.2.0.0"), 1u);
  EXPECT_FALSE(value_at(t, "11.0.0.0"));
  EXPECT_FALSE(value_at(t, "9.255.255.255"));
  const auto m = t.lookup(ip("10.1.2.200"));
  EXPECT_EQ(m->prefix.to_string(), "10.1.2.0/24");
}

TEST(PrefixTable, FirstEntryOfADuplicateNetworkWins) {
  const auto t = PrefixTable::build({{net("192.0.2.0/24"), 7}, {net("192.0.2.0/24"), 8}});
  EXPECT_EQ(value_at(t, "192.0.2.1"), 7u);
  EXPECT_EQ(t.size(), 1u);
}

TEST(PrefixTable, EdgesOfTheAddressSpace) {
  const auto t = PrefixTable::build({{net("0.0.0.0/0"), 1},
                                     {net("255.255.255.255/32"), 2},
                                     {net("0.0.0.0/32"), 3},
                                     {net("::/0"), 4},
                                     {net("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"), 5}});
  EXPECT_EQ(value_at(t, "255.255.255.255"), 2u);
  EXPECT_EQ(value_at(t, "255.255.255.254"), 1u);
  EXPECT_EQ(value_at(t, "0.0.0.0"), 3u);
  EXPECT_EQ(value_at(t, "0.0.0.1"), 1u);
  EXPECT_EQ(value_at(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 5u);
  EXPECT_EQ(value_at(t, "2001:db8::1"), 4u);
}

TEST(PrefixTable, FamiliesAreSeparateAndMappedAddressesAreIpv4) {
  const auto t = PrefixTable::build({{net("192.0.2.0/24"), 1}, {net("2001:db8::/32"), 2}});
  EXPECT_EQ(value_at(t, "::ffff:192.0.2.9"), 1u);
  EXPECT_FALSE(value_at(t, "::c000:209"));  // IPv4-compatible is not IPv4-mapped
  EXPECT_EQ(value_at(t, "2001:db8:5::1"), 2u);
  EXPECT_FALSE(value_at(t, "2001:db9::1"));
}

// A randomized cross-check against a brute-force longest-prefix match, big enough that the
// bucket index is used, for both families.
template <class Make>
void cross_check(unsigned bits, Make make_address, std::uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<PrefixTable::Entry> entries;
  for (std::uint32_t i = 0; i < 3000; ++i) {
    const unsigned len = static_cast<unsigned>(rng() % (bits + 1));
    entries.push_back({Prefix::of(make_address(rng), len), i});
  }
  const auto t = PrefixTable::build(entries);
  const auto brute = [&](const IpAddress& a) -> std::optional<std::uint32_t> {
    std::optional<std::uint32_t> best;
    int best_len = -1;
    for (const auto& e : entries) {  // first entry wins among duplicates: strict >
      if (e.prefix.contains(a) && static_cast<int>(e.prefix.length) > best_len) {
        best = e.value;
        best_len = e.prefix.length;
      }
    }
    return best;
  };
  for (int i = 0; i < 3000; ++i) {
    // Half near entries (their start, end, just past the end), half random.
    IpAddress a = make_address(rng);
    if (i % 2 == 0) a = entries[rng() % entries.size()].prefix.network;
    const auto got = t.lookup(a);
    const auto want = brute(a);
    ASSERT_EQ(got.has_value(), want.has_value()) << a.to_string();
    if (got) {
      ASSERT_EQ(got->value, *want) << a.to_string();
    }
  }
}

TEST(PrefixTable, MatchesBruteForceIpv4) {
  // Addresses crowded into 10.0.0.0/12 so that networks nest often.
  cross_check(
      32,
      [](std::mt19937_64& r) {
        const auto len_bits = static_cast<std::uint32_t>(r() % 8);
        return IpAddress::v4(0x0a000000u |
                             (static_cast<std::uint32_t>(r()) & (0x000fffffu >> len_bits)));
      },
      1);
}

TEST(PrefixTable, MatchesBruteForceIpv6) {
  cross_check(
      128,
      [](std::mt19937_64& r) {
        uint128 v = (uint128{0x2001} << 112) | (uint128{r() & 0xffff} << 96) |
                    (uint128{r()} << 32) | (r() & 0xff);
        return IpAddress::v6(v);
      },
      2);
}

TEST(PrefixTable, ReportsItsMemory) {
  const auto t = PrefixTable::build({{net("10.0.0.0/8"), 1}});
  EXPECT_GT(t.memory_bytes(), 0u);
}

}  // namespace
}  // namespace spoa::iprep
