// The database check behind --check-config and every (re)load: what it accepts, what it
// refuses and how it explains it.
#include <gtest/gtest.h>

#include "fixtures.hpp"

namespace {

using namespace spoa::geoip;
using geoip_test::fixture;

// The message of the DatabaseError that loading `db` with `variables` throws ("" if none).
std::string load_error(const std::string& db,
                       const std::vector<std::pair<std::string, std::string>>& variables,
                       const std::string& check_records = "") {
  ConfigEntries entries{{"databases.d.file", fixture(db)}};
  if (!check_records.empty()) entries.emplace_back("databases.d.check_records", check_records);
  for (const auto& [name, value] : variables)
    entries.emplace_back("databases.d.variables." + name, value);
  Geoip geoip(parse_config(entries));
  try {
    geoip.load_all();
  } catch (const DatabaseError& e) {
    return e.what();
  }
  return "";
}

::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' lacks '" << part << "'";
}

TEST(GeoipCheck, EveryMappedPathPresentPasses) {
  EXPECT_EQ(load_error("city-v1", {{"c", "country.iso_code"}, {"city", "city.names.en"}}), "");
}

TEST(GeoipCheck, MisspelledPathIsRefusedListingTheKeysThatExist) {
  const std::string e = load_error("city-v1", {{"c", "country.iso_cod"}});
  EXPECT_TRUE(contains(e, fixture("city-v1") + ": path 'country.iso_cod' is not in any of"));
  EXPECT_TRUE(contains(e,
                       "'country' is a map with keys geoname_id, is_in_european_union, "
                       "iso_code, names"));
}

TEST(GeoipCheck, MisspelledTopLevelKeyListsTheRecordKeys) {
  const std::string e = load_error("asn", {{"a", "autonomous_system_nr"}});
  EXPECT_TRUE(contains(e,
                       "the record is a map with keys autonomous_system_number, "
                       "autonomous_system_organization"));
}

TEST(GeoipCheck, PathToAMapIsRefused) {
  const std::string e = load_error("city-v1", {{"c", "country"}});
  EXPECT_TRUE(contains(e, "path 'country' leads to a map with keys"));
  EXPECT_TRUE(contains(e, "name a value inside it"));
}

TEST(GeoipCheck, PathToAnArrayIsRefused) {
  EXPECT_TRUE(
      contains(load_error("city-v1", {{"s", "subdivisions"}}), "leads to an array of 2 elements"));
}

TEST(GeoipCheck, PathThroughAScalarIsRefused) {
  const std::string e = load_error("city-v1", {{"c", "country.iso_code.first"}});
  EXPECT_TRUE(contains(e, "'country.iso_code' is a utf8_string"));
}

TEST(GeoipCheck, EveryBadPathIsReportedAtOnce) {
  const std::string e = load_error("city-v1", {{"a", "nope"}, {"b", "country.nope"}});
  EXPECT_TRUE(contains(e, "path 'nope'"));
  EXPECT_TRUE(contains(e, "path 'country.nope'"));
}

TEST(GeoipCheck, PathsOnlySomeRecordsHaveAreAccepted) {
  // city.names.en is in 2 of the 5 records of city-v1.
  EXPECT_EQ(load_error("city-v1", {{"c", "city.names.en"}}), "");
}

TEST(GeoipCheck, DefaultOfTheWrongTypeIsRefusedNamingTheStoredType) {
  Geoip geoip(parse_config({{"databases.asn.file", fixture("asn")},
                            {"databases.asn.variables.asn.path", "autonomous_system_number"},
                            {"databases.asn.variables.asn.default", "none"}}));
  try {
    geoip.load_all();
    FAIL();
  } catch (const DatabaseError& e) {
    EXPECT_TRUE(contains(e.what(),
                         "config key 'databases.asn.variables.asn.default': 'none' is "
                         "not an unsigned 32-bit integer (the database stores "
                         "'autonomous_system_number' as uint32"));
  }
}

TEST(GeoipCheck, DefaultAsTextWithTypeString) {
  Geoip geoip(parse_config({{"databases.asn.file", fixture("asn")},
                            {"databases.asn.variables.asn.path", "autonomous_system_number"},
                            {"databases.asn.variables.asn.type", "string"},
                            {"databases.asn.variables.asn.default", "none"}}));
  geoip.load_all();
  EXPECT_EQ(geoip_test::answer(geoip, "10.0.0.1").at("asn"), "string none");
  EXPECT_EQ(geoip_test::answer(geoip, "192.0.2.1").at("asn"), "string 64500");
}

TEST(GeoipCheck, TruncatedFileIsRefused) {
  EXPECT_TRUE(
      contains(load_error("truncated", {{"c", "country.iso_code"}}), fixture("truncated") + ": "));
}

TEST(GeoipCheck, FileThatIsNoDatabaseIsRefused) {
  EXPECT_TRUE(contains(load_error("not-a-database", {{"c", "country.iso_code"}}),
                       "The MaxMind DB file contains invalid metadata"));
}

TEST(GeoipCheck, MissingFileIsRefusedWithTheSystemsReason) {
  EXPECT_TRUE(contains(load_error("no-such-file", {{"c", "country.iso_code"}}),
                       "no-such-file.mmdb: No such file or directory"));
}

TEST(GeoipCheck, WholeTreeIsWalkedAndDistinctRecordsCounted) {
  const auto db = Database::open(fixture("city-v1"), LoadMode::mmap);
  const auto path = VariableSource::parse("country.iso_code");
  const CheckReport r = check_database(*db, {&path}, 0);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.nodes, db->mmdb().metadata.node_count);
  EXPECT_EQ(r.records, 5u);  // five networks, five distinct records
  EXPECT_TRUE(r.exhaustive());
  EXPECT_EQ(r.paths[0].present, 5u);
  EXPECT_EQ(CheckReport::type_names(r.paths[0].type_mask), "utf8_string");
}

TEST(GeoipCheck, ABudgetSamplesThatManyRecordsAndSaysSo) {
  const auto db = Database::open(fixture("city-v1"), LoadMode::mmap);
  const auto path = VariableSource::parse("country.iso_code");
  const CheckReport r = check_database(*db, {&path}, 2);
  EXPECT_EQ(r.records_checked, 2u);
  EXPECT_FALSE(r.exhaustive());
  const auto rare = VariableSource::parse("nope");
  const CheckReport missing = check_database(*db, {&rare}, 2);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(contains(missing.errors[0],
                       "the 2 records checked (of 5; check_records = 0 "
                       "checks all)"));
}

TEST(GeoipCheck, SummaryNamesTypeTreeAndSize) {
  Geoip geoip(parse_config({{"databases.asn.file", fixture("asn")},
                            {"databases.asn.variables.a", "autonomous_system_number"}}));
  geoip.load_all();
  EXPECT_TRUE(contains(geoip.slots()[0]->current()->summary(), "SpoaTest-ASN, IPv6 tree, built "));
  EXPECT_TRUE(contains(geoip.slots()[0]->current()->summary(), " 3 records"));
}

}  // namespace
