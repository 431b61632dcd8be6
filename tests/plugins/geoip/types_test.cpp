// Every MMDB data type becomes the SPOP type README "Types" promises (types.mmdb has one
// value of each).
#include <gtest/gtest.h>

#include "fixtures.hpp"

namespace {

using namespace spoa::geoip;
using geoip_test::fixture;

// One variable per entry, in types.mmdb (an IPv4 database), looked up at 192.0.2.1.
geoip_test::Answer lookup(const std::vector<std::pair<std::string, std::string>>& variables,
                          const std::string& type = "auto") {
  ConfigEntries entries{{"databases.types.file", fixture("types")}};
  for (const auto& [name, path] : variables) {
    entries.emplace_back("databases.types.variables." + name + ".path", path);
    entries.emplace_back("databases.types.variables." + name + ".type", type);
  }
  Geoip geoip(parse_config(entries));
  geoip.load_all();
  return geoip_test::answer(geoip, "192.0.2.1");
}

TEST(GeoipTypes, Utf8StringIsAString) {
  EXPECT_EQ(lookup({{"v", "a_string"}})["v"], "string h\xc3\xa9llo");
  EXPECT_EQ(lookup({{"v", "empty_string"}})["v"], "string ");
}

TEST(GeoipTypes, Uint16AndUint32AreUint32) {
  EXPECT_EQ(lookup({{"v", "a_uint16"}})["v"], "uint32 65535");
  EXPECT_EQ(lookup({{"v", "a_uint32"}})["v"], "uint32 4294967295");
}

TEST(GeoipTypes, Int32IsInt32) {
  EXPECT_EQ(lookup({{"v", "a_int32"}})["v"], "int32 -2147483648");
}

TEST(GeoipTypes, Uint64AndUint128AreUint64WhenHaproxyCanHoldThem) {
  EXPECT_EQ(lookup({{"v", "a_uint64"}})["v"], "uint64 1234567890123");
  EXPECT_EQ(lookup({{"v", "small_uint128"}})["v"], "uint64 42");
}

TEST(GeoipTypes, Uint64AndUint128AboveInt64MaxAreDecimalText) {
  // HAProxy stores integers as signed 64-bit: these would arrive negative.
  EXPECT_EQ(lookup({{"v", "big_uint64"}})["v"], "string 18446744073709551615");
  EXPECT_EQ(lookup({{"v", "a_uint128"}})["v"], "string 340282366920938463463374607431768211455");
}

TEST(GeoipTypes, DoubleAndFloatAreShortestDecimalText) {
  EXPECT_EQ(lookup({{"v", "a_double"}})["v"], "string 52.5244");
  EXPECT_EQ(lookup({{"v", "a_float"}})["v"], "string 1.5");
}

TEST(GeoipTypes, BooleanIsBool) {
  EXPECT_EQ(lookup({{"t", "a_true"}, {"f", "a_false"}}),
            (geoip_test::Answer{{"t", "bool true"}, {"f", "bool false"}}));
}

TEST(GeoipTypes, BytesAreBinary) {
  EXPECT_EQ(lookup({{"v", "a_bytes"}})["v"], "binary 0001feff");
}

TEST(GeoipTypes, ArraysAreIndexedFromEitherEnd) {
  EXPECT_EQ(lookup({{"first", "an_array.0"}, {"last", "an_array.-1"}}),
            (geoip_test::Answer{{"first", "string zero"}, {"last", "string two"}}));
  // An index no record has is a config error, not a silent empty variable.
  try {
    lookup({{"none", "an_array.7"}});
    FAIL();
  } catch (const DatabaseError& e) {
    EXPECT_NE(std::string(e.what()).find("'an_array' is an array of 3 elements"), std::string::npos)
        << e.what();
  }
}

TEST(GeoipTypes, MapsAreWalkedByKey) {
  EXPECT_EQ(lookup({{"v", "a_map.inner"}})["v"], "string value");
}

TEST(GeoipTypes, TypeStringMakesEveryScalarText) {
  EXPECT_EQ(lookup({{"u16", "a_uint16"},
                    {"i32", "a_int32"},
                    {"u64", "a_uint64"},
                    {"b", "a_true"},
                    {"bytes", "a_bytes"},
                    {"small128", "small_uint128"}},
                   "string"),
            (geoip_test::Answer{{"u16", "string 65535"},
                                {"i32", "string -2147483648"},
                                {"u64", "string 1234567890123"},
                                {"b", "string true"},
                                {"bytes", "string 0001feff"},
                                {"small128", "string 42"}}));
}

TEST(GeoipTypes, AnIpv6AddressInAnIpv4DatabaseIsNotFound) {
  ConfigEntries entries{{"databases.types.file", fixture("types")},
                        {"databases.types.variables.v", "a_string"},
                        {"databases.types.variables.in_db", "@found"}};
  Geoip geoip(parse_config(entries));
  geoip.load_all();
  EXPECT_EQ(geoip_test::answer(geoip, "2001:db8::1"),
            (geoip_test::Answer{{"in_db", "bool false"}}));
  EXPECT_EQ(geoip.slots()[0]->counters().not_found.load(), 1u);
}

}  // namespace
