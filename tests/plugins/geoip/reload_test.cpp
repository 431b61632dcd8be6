// A replaced database file: the new version is published whole, a broken one leaves the
// old version answering, and in copy mode even an in-place rewrite cannot reach the
// version in use.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "database_files.hpp"
#include "fixtures.hpp"

namespace {

using namespace spoa::geoip;
using geoip_test::fixture;
namespace fs = std::filesystem;

class GeoipReload : public ::testing::TestWithParam<LoadMode> {
 protected:
  void SetUp() override {
    dir = geoip_test::scratch_dir(GetParam() == LoadMode::copy ? "reload-copy" : "reload-mmap");
    db = dir / "City.mmdb";
    fs::copy_file(fixture("city-v1"), db);
    geoip = std::make_unique<Geoip>(
        parse_config({{"databases.city.file", db.string()},
                      {"databases.city.load", GetParam() == LoadMode::copy ? "copy" : "mmap"},
                      {"databases.city.variables.country", "country.iso_code"}}));
    geoip->load_all();
  }
  void TearDown() override { fs::remove_all(dir); }

  // As geoipupdate does: write beside, then rename over.
  void replace_with(const std::string& source) {
    const fs::path next = dir / "City.mmdb.new";
    fs::copy_file(source, next, fs::copy_options::overwrite_existing);
    fs::rename(next, db);
  }
  std::string country(std::string_view address) {
    const auto a = geoip_test::answer(*geoip, address);
    return a.count("country") ? a.at("country") : "none";
  }
  DatabaseSlot& slot() { return *geoip->slots()[0]; }

  fs::path dir, db;
  std::unique_ptr<Geoip> geoip;
};

TEST_P(GeoipReload, ReplacedFileChangesTheAnswers) {
  EXPECT_EQ(country("192.0.2.1"), "string DE");
  const auto before = slot().current();
  replace_with(fixture("city-v2"));
  slot().load();
  EXPECT_EQ(country("192.0.2.1"), "string FR");
  EXPECT_NE(slot().current(), before);
}

TEST_P(GeoipReload, ReaderHoldingTheOldVersionKeepsIt) {
  const auto held = slot().current();
  replace_with(fixture("city-v2"));
  slot().load();
  MMDB_entry_data_s data{};
  LookupResult r = held->database().lookup(*IpAddress::parse("192.0.2.1"));
  ASSERT_EQ(r.status, LookupResult::Status::found);
  const char* path[] = {"country", "iso_code", nullptr};
  ASSERT_EQ(MMDB_aget_value(&r.entry, &data, path), MMDB_SUCCESS);
  EXPECT_EQ(std::string(data.utf8_string, data.data_size), "DE");
}

TEST_P(GeoipReload, BrokenReplacementKeepsTheOldVersion) {
  for (const char* broken : {"truncated", "not-a-database", "country-renamed"}) {
    replace_with(fixture(broken));
    EXPECT_THROW(slot().load(), DatabaseError) << broken;
    EXPECT_EQ(country("192.0.2.1"), "string DE") << broken;
  }
  replace_with(fixture("city-v2"));
  slot().load();
  EXPECT_EQ(country("192.0.2.1"), "string FR");
}

TEST_P(GeoipReload, DeletedFileKeepsTheOldVersion) {
  fs::remove(db);
  EXPECT_THROW(slot().load(), DatabaseError);
  EXPECT_EQ(country("192.0.2.1"), "string DE");
}

// Through the support library's watched file, as the plugin's watcher thread polls it.
TEST_P(GeoipReload, WatchedFileReloadsOnlyChangedFilesAndReportsEachAttempt) {
  std::vector<std::string> lines;
  auto files = database_files(
      *geoip, [&](spoa::support::Severity, const std::string& text) { lines.push_back(text); });
  ASSERT_EQ(files.size(), 1u);
  spoa::support::WatchedFile& file = *files[0].file;
  file.load_now();  // as the plugin's init does
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("database city: loaded " + db.string() + ": SpoaTest-City", 0), 0u);
  lines.clear();
  EXPECT_FALSE(file.refresh());  // nothing changed since the load
  replace_with(fixture("truncated"));
  EXPECT_FALSE(file.refresh());
  EXPECT_FALSE(file.refresh());  // the same broken file is not tried again
  EXPECT_EQ(country("192.0.2.1"), "string DE");
  replace_with(fixture("city-v2"));
  EXPECT_TRUE(file.refresh());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].rfind("database city: " + db.string() + ": ", 0), 0u) << lines[0];
  EXPECT_NE(lines[0].find("; keeping the version loaded last"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[1].rfind("database city: reloaded " + db.string() + ": ", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2], db.string() + ": reloaded, 5 entries");
  const auto health = files[0].health->view();
  EXPECT_EQ(health.name, "city");
  EXPECT_EQ(health.loads_ok, 2u);
  EXPECT_EQ(health.loads_failed, 1u);
  EXPECT_TRUE(health.last_ok);
  EXPECT_EQ(health.entries, 5u);  // distinct data records
  EXPECT_EQ(country("192.0.2.1"), "string FR");
}

INSTANTIATE_TEST_SUITE_P(BothLoadModes, GeoipReload,
                         ::testing::Values(LoadMode::copy, LoadMode::mmap),
                         [](const auto& param_info) {
                           return param_info.param == LoadMode::copy ? "copy" : "mmap";
                         });

TEST(GeoipCopyMode, InPlaceRewriteDoesNotReachTheLoadedVersion) {
  const fs::path dir = geoip_test::scratch_dir("in-place");
  const fs::path db = dir / "City.mmdb";
  fs::copy_file(fixture("city-v1"), db);
  Geoip geoip(parse_config({{"databases.city.file", db.string()},
                            {"databases.city.variables.country", "country.iso_code"}}));
  geoip.load_all();
  // `cp` truncates and rewrites the same inode: a mapping of the file itself would now
  // read the (shorter) new bytes, or beyond the end of the file (SIGBUS).
  {
    std::ofstream out(db, std::ios::binary | std::ios::trunc);
    out << "short";
  }
  EXPECT_EQ(geoip_test::answer(geoip, "192.0.2.1").at("country"), "string DE");
  fs::remove_all(dir);
}

}  // namespace
