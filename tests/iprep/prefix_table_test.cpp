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

// Segments exist only where networks start (and where an outer one resumes), so an address
// past a network's end must be told apart from one inside it, also when neighbours carry
// the same value (one list's entries all do).
TEST(PrefixTable, GapsBetweenNetworksOfOneValue) {
  const auto t = PrefixTable::build(
      {{net("10.0.0.0/24"), 0}, {net("10.0.1.0/24"), 0}, {net("10.0.3.0/24"), 0}});
  EXPECT_EQ(t.lookup(ip("10.0.0.255"))->prefix.to_string(), "10.0.0.0/24");
  EXPECT_EQ(t.lookup(ip("10.0.1.0"))->prefix.to_string(), "10.0.1.0/24");
  EXPECT_EQ(t.lookup(ip("10.0.1.255"))->prefix.to_string(), "10.0.1.0/24");
  EXPECT_FALSE(value_at(t, "10.0.2.0"));
  EXPECT_FALSE(value_at(t, "10.0.2.255"));
  EXPECT_EQ(value_at(t, "10.0.3.7"), 0u);
  EXPECT_FALSE(value_at(t, "10.0.4.0"));
  EXPECT_FALSE(value_at(t, "9.255.255.255"));
  EXPECT_FALSE(value_at(t, "255.255.255.255"));
}

// Networks longer than /64 live in a second table behind a marker in the /64 table.
TEST(PrefixTable, Ipv6NetworksLongerThan64InsideShorterOnes) {
  const auto t = PrefixTable::build({{net("2001:db8::/32"), 1},
                                     {net("2001:db8:0:1::5/128"), 2},
                                     {net("2001:db8:0:1::/96"), 3},
                                     {net("2001:db8:0:2::/64"), 4}});
  EXPECT_EQ(value_at(t, "2001:db8:0:1::5"), 2u);
  EXPECT_EQ(t.lookup(ip("2001:db8:0:1::5"))->prefix.to_string(), "2001:db8:0:1::5/128");
  EXPECT_EQ(value_at(t, "2001:db8:0:1::6"), 3u);
  EXPECT_EQ(value_at(t, "2001:db8:0:1::"), 3u);
  EXPECT_EQ(value_at(t, "2001:db8:0:1:0:1::"), 1u);  // past the /96, inside the /32
  EXPECT_EQ(t.lookup(ip("2001:db8:0:1:1::1"))->prefix.to_string(), "2001:db8::/32");
  EXPECT_EQ(value_at(t, "2001:db8:0:2::1"), 4u);
  EXPECT_EQ(value_at(t, "2001:db8:0:3::1"), 1u);
  EXPECT_EQ(value_at(t, "2001:db8::1"), 1u);
  EXPECT_FALSE(value_at(t, "2001:db9::"));
  EXPECT_FALSE(value_at(t, "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff"));
}

TEST(PrefixTable, Ipv6LongNetworksWithNothingAround) {
  // Two neighbouring /64s holding long networks, and no shorter network anywhere.
  const auto t =
      PrefixTable::build({{net("2001:db8:0:1::5/128"), 1}, {net("2001:db8:0:2::/127"), 2}});
  EXPECT_EQ(value_at(t, "2001:db8:0:1::5"), 1u);
  EXPECT_FALSE(value_at(t, "2001:db8:0:1::4"));
  EXPECT_FALSE(value_at(t, "2001:db8:0:1::6"));
  EXPECT_EQ(value_at(t, "2001:db8:0:2::"), 2u);
  EXPECT_EQ(value_at(t, "2001:db8:0:2::1"), 2u);
  EXPECT_FALSE(value_at(t, "2001:db8:0:2::2"));
  EXPECT_FALSE(value_at(t, "2001:db8:0:3::"));
  EXPECT_FALSE(value_at(t, "2001:db8:0:0:ffff:ffff:ffff:ffff"));
  EXPECT_FALSE(value_at(t, "::"));
}

TEST(PrefixTable, Ipv6LongNetworkInTheLast64OfItsOuterNetwork) {
  const auto t = PrefixTable::build({{net("2001:db8::/63"), 1}, {net("2001:db8:0:1::1/128"), 2}});
  EXPECT_EQ(value_at(t, "2001:db8::1"), 1u);
  EXPECT_EQ(value_at(t, "2001:db8:0:1::1"), 2u);
  EXPECT_EQ(value_at(t, "2001:db8:0:1::2"), 1u);
  EXPECT_EQ(value_at(t, "2001:db8:0:1:ffff:ffff:ffff:ffff"), 1u);
  EXPECT_FALSE(value_at(t, "2001:db8:0:2::"));
}

TEST(PrefixTable, Ipv6DefaultRouteWithLongAndTopNetworks) {
  const auto t = PrefixTable::build({{net("::/0"), 1},
                                     {net("2001:db8::1/128"), 2},
                                     {net("ffff:ffff:ffff:ffff::/64"), 3},
                                     {net("::/128"), 4}});
  EXPECT_EQ(value_at(t, "2001:db8::1"), 2u);
  EXPECT_EQ(value_at(t, "2001:db8::2"), 1u);
  EXPECT_EQ(t.lookup(ip("2001:db8::2"))->prefix.to_string(), "::/0");
  EXPECT_EQ(value_at(t, "ffff:ffff:ffff:ffff:1::"), 3u);
  EXPECT_EQ(value_at(t, "ffff:ffff:ffff:fffe:ffff:ffff:ffff:ffff"), 1u);
  EXPECT_EQ(value_at(t, "::"), 4u);
  EXPECT_EQ(value_at(t, "::1"), 1u);
  EXPECT_FALSE(value_at(t, "::ffff:192.0.2.1"));  // IPv4: ::/0 is not 0.0.0.0/0
}

// A randomized cross-check against a brute-force longest-prefix match (sized for the
// sanitizer builds: the brute force is quadratic), big enough that the
// bucket index is used, for both families.
// A network's first address (0), last (1), or the one after it (2).
IpAddress edge_of(const Prefix& p, std::uint64_t which) {
  if (which == 0) return p.network;
  const unsigned host_bits = p.network.bits() - p.length;
  if (p.network.is_v4()) {
    const std::uint32_t host = host_bits >= 32 ? ~0u : (1u << host_bits) - 1;
    return IpAddress::v4(static_cast<std::uint32_t>((p.network.v4_value() | host) + which - 1));
  }
  const uint128 host = host_bits >= 128 ? ~uint128{0} : (uint128{1} << host_bits) - 1;
  return IpAddress::v6(static_cast<uint128>((p.network.v6_value() | host) + which - 1));
}

// `values` distinct entry values (few: neighbours share labels, as in one list), lengths
// from `shortest` (long enough, and networks leave gaps between them).
template <class Make>
void cross_check(unsigned bits, Make make_address, std::uint32_t seed, std::uint32_t values,
                 unsigned shortest) {
  std::mt19937_64 rng(seed);
  std::vector<PrefixTable::Entry> entries;
  for (std::uint32_t i = 0; i < 800; ++i) {
    const unsigned len = shortest + static_cast<unsigned>(rng() % (bits + 1 - shortest));
    entries.push_back({Prefix::of(make_address(rng), len), i % values});
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
  for (int i = 0; i < 800; ++i) {
    // Half at entries' edges (their start, end, just past the end), half random.
    IpAddress a = make_address(rng);
    if (i % 2 == 0) a = edge_of(entries[rng() % entries.size()].prefix, rng() % 3);
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
      1, 800, 0);
}

TEST(PrefixTable, MatchesBruteForceIpv4OneValue) {
  cross_check(
      32, [](std::mt19937_64& r) { return IpAddress::v4(0x0a000000u | (r() & 0xffffu)); }, 3, 1,
      20);
}

TEST(PrefixTable, MatchesBruteForceIpv6) {
  cross_check(
      128,
      [](std::mt19937_64& r) {
        uint128 v = (uint128{0x2001} << 112) | (uint128{r() & 0xffff} << 96) |
                    (uint128{r()} << 32) | (r() & 0xff);
        return IpAddress::v6(v);
      },
      2, 800, 0);
}

// Crowded around a few /64 boundaries with every length from /0 to /128: long networks
// nest in short ones, markers sit next to each other and at the ends of their networks.
TEST(PrefixTable, MatchesBruteForceIpv6AroundSlash64Boundaries) {
  cross_check(
      128,
      [](std::mt19937_64& r) {
        const uint128 near = r() % 2 == 0 ? r() & 0xf : ~std::uint64_t{0} - (r() & 0xf);
        const uint128 v = (uint128{0x2001} << 112) | (uint128{r() & 0x3} << 64) | near;
        return IpAddress::v6(v);
      },
      4, 3, 60);
}

TEST(PrefixTable, ReportsItsMemory) {
  const auto t = PrefixTable::build({{net("10.0.0.0/8"), 1}});
  EXPECT_GT(t.memory_bytes(), 0u);
}

}  // namespace
}  // namespace spoa::iprep
