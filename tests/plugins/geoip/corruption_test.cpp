// Damaged database files: every one either fails to load with a reason, or loads and then
// answers every address without a crash or a sanitizer report (the check walked the whole
// tree and resolved the mapped paths in every record, so a damaged part that is used
// cannot pass). Deterministic: the same byte flips on every run.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "fixtures.hpp"

namespace {

using namespace spoa::geoip;
namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(GeoipCorruption, DamagedFilesFailToLoadOrAnswerSafely) {
  const std::string original = slurp(geoip_test::fixture("city-v1"));
  ASSERT_GT(original.size(), 100u);
  const fs::path dir = geoip_test::scratch_dir("corruption");
  std::mt19937 random(12345);
  int refused = 0, loaded = 0;
  for (int variant = 0; variant < 300; ++variant) {
    std::string bytes = original;
    const int flips = 1 + variant % 4;
    for (int f = 0; f < flips; ++f) {
      const std::size_t at = random() % bytes.size();
      bytes[at] = static_cast<char>(bytes[at] ^ static_cast<char>(1 + random() % 255));
    }
    const fs::path file = dir / ("v" + std::to_string(variant) + ".mmdb");
    std::ofstream(file, std::ios::binary) << bytes;
    Geoip geoip(parse_config({{"databases.city.file", file.string()},
                              {"databases.city.variables.country", "country.iso_code"},
                              {"databases.city.variables.city.path", "city.names.en"},
                              {"databases.city.variables.city.default", "-"},
                              {"databases.city.variables.prefix", "@prefix"}}));
    try {
      geoip.load_all();
    } catch (const DatabaseError& e) {
      ++refused;
      EXPECT_NE(std::string(e.what()).find(file.string()), std::string::npos) << e.what();
      continue;
    }
    ++loaded;
    for (const char* address : {"127.0.0.1", "192.0.2.1", "198.51.100.1", "203.0.113.1",
                                "2001:db8::1", "10.0.0.1", "::1", "255.255.255.255"})
      geoip_test::answer(geoip, address);
    for (int i = 0; i < 200; ++i) {
      std::array<std::uint8_t, 4> v4{};
      for (auto& b : v4)
        b = static_cast<std::uint8_t>(random());
      geoip.answer(IpAddress::v4(v4), [](std::string_view, const GeoValue&) {});
    }
    fs::remove(file);
  }
  // Both outcomes occur: the test exercises the check and the lookups.
  EXPECT_GT(refused, 0);
  EXPECT_GT(loaded, 0);
  fs::remove_all(dir);
}

}  // namespace
