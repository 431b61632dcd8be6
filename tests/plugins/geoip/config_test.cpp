#include <gtest/gtest.h>

#include "geoip_config.hpp"

namespace {

using namespace spoa::geoip;

std::string error_of(const ConfigEntries& entries) {
  try {
    parse_config(entries);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(GeoipConfig, DatabasesWithShortAndLongVariableForms) {
  const GeoipConfig c = parse_config({{"databases.city.file", "/x/City.mmdb"},
                                      {"databases.city.load", "mmap"},
                                      {"databases.city.check_records", "5000"},
                                      {"databases.city.variables.country", "country.iso_code"},
                                      {"databases.city.variables.name.path", "city.names.en"},
                                      {"databases.city.variables.name.default", "?"},
                                      {"databases.city.variables.name.type", "string"},
                                      {"databases.asn.file", "/x/ASN.mmdb"},
                                      {"databases.asn.variables.asn", "autonomous_system_number"},
                                      {"reload_interval", "250ms"},
                                      {"scope", "sess"}});
  ASSERT_EQ(c.databases.size(), 2u);
  EXPECT_EQ(c.databases[0].name, "asn");
  const DatabaseConfig& city = c.databases[1];
  EXPECT_EQ(city.file, "/x/City.mmdb");
  EXPECT_EQ(city.load, LoadMode::mmap);
  EXPECT_EQ(city.check_records, 5000u);
  EXPECT_EQ(c.databases[0].check_records, 0u);  // every record unless told otherwise
  ASSERT_EQ(city.variables.size(), 2u);
  EXPECT_EQ(city.variables[0].name, "country");
  EXPECT_EQ(city.variables[1].name, "name");
  EXPECT_EQ(city.variables[1].default_text, "?");
  EXPECT_EQ(city.variables[1].type, ValueType::string);
  EXPECT_EQ(c.reload_interval, std::chrono::milliseconds(250));
  EXPECT_EQ(c.scope, "sess");
  EXPECT_EQ(c.databases[0].load, LoadMode::copy);
}

TEST(GeoipConfig, ErrorsNameTheKey) {
  EXPECT_EQ(error_of({{"databasse.city.file", "x"}}), "unknown config key 'databasse.city.file'");
  EXPECT_EQ(error_of({{"databases.city.variables.c", "country.iso_code"}}),
            "config key 'databases.city.file' is missing: the .mmdb file to use");
  EXPECT_EQ(error_of({{"databases.city.file", "x"}}),
            "config key 'databases.city.variables' is missing: map at least one variable to a "
            "data path, e.g. country = \"country.iso_code\"");
  EXPECT_EQ(error_of({{"databases.city.file", "x"}, {"databases.city.load", "rom"}}),
            "config key 'databases.city.load': 'rom' is not one of copy, mmap");
  EXPECT_EQ(error_of({{"databases.city.file", "x"},
                      {"databases.city.variables.c.path", "a"},
                      {"databases.city.variables.c.type", "int"}}),
            "config key 'databases.city.variables.c.type': 'int' is not one of auto, string");
  EXPECT_EQ(error_of({{"databases.city.file", "x"}, {"databases.city.variables.c", "a..b"}}),
            "config key 'databases.city.variables.c': 'a..b' has an empty component at "
            "position 2");
  EXPECT_EQ(error_of({{"databases.city.file", "x"}, {"databases.city.variables.c.default", "x"}}),
            "config key 'databases.city.variables.c.path' is missing: the data path to read");
  EXPECT_EQ(error_of({{"databases.city.file", "x"}, {"databases.city.variables.c.colour", "x"}}),
            "unknown config key 'databases.city.variables.c.colour' (a variable has path, "
            "default, type)");
  EXPECT_EQ(error_of({{"reload_interval", "5"}}),
            "config key 'reload_interval': '5' needs a unit: ms, s, m or h");
  EXPECT_EQ(error_of({}),
            "no database configured: add databases.NAME.file and "
            "databases.NAME.variables");
}

TEST(GeoipConfig, AVariableBelongsToOneDatabase) {
  EXPECT_EQ(error_of({{"databases.a.file", "x"},
                      {"databases.a.variables.country", "country.iso_code"},
                      {"databases.b.file", "y"},
                      {"databases.b.variables.country", "country.iso_code"}}),
            "config key 'databases.b.variables.country': variable 'country' is already set by "
            "database 'a'");
}

TEST(GeoipConfig, PassthroughKeysAreLeftForTheCaller) {
  const GeoipConfig c = parse_config({{"databases.a.file", "x"},
                                      {"databases.a.variables.v", "p"},
                                      {"client.header", "x-forwarded-for"}},
                                     {"client."});
  ASSERT_EQ(c.other.size(), 1u);
  EXPECT_EQ(c.other[0].first, "client.header");
}

}  // namespace
