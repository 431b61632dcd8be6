// Lookups in City-, ASN- and Anonymous-IP-shaped databases: values, defaults, prefixes,
// several databases at once.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "fixtures.hpp"

namespace {

using namespace spoa::geoip;
using geoip_test::Answer;
using geoip_test::fixture;

class GeoipLookup : public ::testing::Test {
 protected:
  void SetUp() override {
    const ConfigEntries entries{
        {"databases.city.file", fixture("city-v1")},
        {"databases.city.variables.country", "country.iso_code"},
        {"databases.city.variables.country_name.path", "country.names.en"},
        {"databases.city.variables.country_name.default", "unknown"},
        {"databases.city.variables.city.path", "city.names.en"},
        {"databases.city.variables.city.default", "-"},
        {"databases.city.variables.region", "subdivisions.0.iso_code"},
        {"databases.city.variables.district", "subdivisions.-1.iso_code"},
        {"databases.city.variables.eu", "country.is_in_european_union"},
        {"databases.city.variables.radius", "location.accuracy_radius"},
        {"databases.city.variables.latitude", "location.latitude"},
        {"databases.city.variables.prefix", "@prefix"},
        {"databases.city.variables.network", "@network"},
        {"databases.asn.file", fixture("asn")},
        {"databases.asn.variables.asn.path", "autonomous_system_number"},
        {"databases.asn.variables.asn.default", "0"},
        {"databases.asn.variables.as_org", "autonomous_system_organization"},
        {"databases.anon.file", fixture("anonymous")},
        {"databases.anon.variables.anonymous.path", "is_anonymous"},
        {"databases.anon.variables.anonymous.default", "false"},
        {"databases.anon.variables.tor.path", "is_tor_exit_node"},
        {"databases.anon.variables.tor.default", "false"},
    };
    geoip = std::make_unique<Geoip>(parse_config(entries));
    geoip->load_all();
  }
  Answer at(std::string_view address) { return geoip_test::answer(*geoip, address); }

  std::unique_ptr<Geoip> geoip;
};

TEST_F(GeoipLookup, FullRecordGivesEveryMappedValue) {
  EXPECT_EQ(at("192.0.2.77"), (Answer{{"country", "string DE"},
                                      {"country_name", "string Germany"},
                                      {"city", "string Berlin"},
                                      {"region", "string BE"},
                                      {"district", "string MI"},
                                      {"eu", "bool true"},
                                      {"radius", "uint32 200"},
                                      {"latitude", "string 52.5244"},
                                      {"prefix", "int32 24"},
                                      {"network", "string 192.0.2.0/24"},
                                      {"asn", "uint32 64500"},
                                      {"as_org", "string Documentation AS"},
                                      {"anonymous", "bool false"},
                                      {"tor", "bool false"}}));
}

TEST_F(GeoipLookup, PathAbsentFromTheRecordGivesItsDefaultOrNothing) {
  // 203.0.113.0/25 has a country but no city, location or subdivisions.
  const Answer a = at("203.0.113.9");
  EXPECT_EQ(a.at("country"), "string JP");
  EXPECT_EQ(a.at("city"), "string -");
  EXPECT_EQ(a.count("region"), 0u);
  EXPECT_EQ(a.count("radius"), 0u);
  EXPECT_EQ(a.at("prefix"), "int32 25");
}

TEST_F(GeoipLookup, AddressInNoDatabaseGetsOnlyTheDefaults) {
  // Typed like the database's values: the ASN default is a number, the others text/bool.
  EXPECT_EQ(at("10.1.2.3"), (Answer{{"country_name", "string unknown"},
                                    {"city", "string -"},
                                    {"asn", "uint32 0"},
                                    {"anonymous", "bool false"},
                                    {"tor", "bool false"}}));
}

TEST_F(GeoipLookup, PrefixIsCountedInTheAddressFamilyLookedUp) {
  EXPECT_EQ(at("127.0.0.1").at("prefix"), "int32 8");
  EXPECT_EQ(at("2001:db8::1").at("prefix"), "int32 32");
  EXPECT_EQ(at("2001:db8::1").at("network"), "string 2001:db8::/32");
  EXPECT_EQ(at("2001:db8::1").at("asn"), "uint32 4200000000");
}

TEST_F(GeoipLookup, Ipv4MappedIpv6IsTheIpv4Address) {
  EXPECT_EQ(at("::ffff:192.0.2.77"), at("192.0.2.77"));
}

TEST_F(GeoipLookup, AnonymousIpBooleans) {
  const Answer vpn = at("198.51.100.3");
  EXPECT_EQ(vpn.at("anonymous"), "bool true");
  EXPECT_EQ(vpn.at("tor"), "bool false");  // absent in the record: the default
  EXPECT_EQ(at("198.51.100.20").at("tor"), "bool true");
}

TEST_F(GeoipLookup, LookupsAreCountedByResultPerDatabase) {
  at("192.0.2.1");
  at("10.0.0.1");
  at("198.51.100.3");
  const auto& slots = geoip->slots();
  // Sorted by name: anon, asn, city.
  ASSERT_EQ(slots[0]->config().name, "anon");
  EXPECT_EQ(slots[0]->counters().found.load(), 1u);
  EXPECT_EQ(slots[0]->counters().not_found.load(), 2u);
  EXPECT_EQ(slots[2]->config().name, "city");
  EXPECT_EQ(slots[2]->counters().found.load(), 2u);
  EXPECT_EQ(slots[2]->counters().not_found.load(), 1u);
  EXPECT_EQ(slots[2]->counters().error.load(), 0u);
}

TEST(GeoipLookupFound, FoundIsAlwaysSet) {
  Geoip geoip(parse_config({{"databases.asn.file", fixture("asn")},
                            {"databases.asn.variables.in_asn", "@found"},
                            {"databases.asn.variables.built", "@build_epoch"}}));
  geoip.load_all();
  EXPECT_EQ(geoip_test::answer(geoip, "192.0.2.1").at("in_asn"), "bool true");
  EXPECT_EQ(geoip_test::answer(geoip, "10.0.0.1").at("in_asn"), "bool false");
  EXPECT_EQ(geoip_test::answer(geoip, "10.0.0.1").at("built"),
            "uint64 " + std::to_string(
                            geoip.slots()[0]->current()->database().mmdb().metadata.build_epoch));
}

TEST(GeoipLookupAddress, AddressIsTheOneLookedUpWithItsFamily) {
  Geoip geoip(parse_config({{"databases.asn.file", fixture("asn")},
                            {"databases.asn.variables.client_ip", "@address"},
                            {"databases.asn.variables.client_text.path", "@address"},
                            {"databases.asn.variables.client_text.type", "string"}}));
  geoip.load_all();
  EXPECT_EQ(geoip_test::answer(geoip, "::ffff:192.0.2.1"),
            (Answer{{"client_ip", "ipv4 192.0.2.1"}, {"client_text", "string 192.0.2.1"}}));
  EXPECT_EQ(geoip_test::answer(geoip, "2001:db8::1").at("client_ip"), "ipv6 2001:db8::1");
}

TEST(GeoipLookupThreads, ConcurrentLookupsAgree) {
  Geoip geoip(parse_config({{"databases.city.file", fixture("city-v1")},
                            {"databases.city.variables.country", "country.iso_code"}}));
  geoip.load_all();
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i)
        if (geoip_test::answer(geoip, i % 2 ? "192.0.2.1" : "198.51.100.1").at("country") !=
            (i % 2 ? "string DE" : "string US"))
          ++wrong;
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(geoip.slots()[0]->counters().found.load(), 8000u);
}

}  // namespace
