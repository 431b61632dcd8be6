// geoip.so in the fake host (the SDK boundary: config, claimed messages, types of the
// variables) and in the real host (`spoa-host --test` and `--check-config`).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "fake_host.hpp"
#include "fixtures.hpp"

namespace {

using spoa::testing::Action;
using spoa::testing::FakeHost;
using V = spoa::testing::TypedValue;
using Config = std::vector<std::pair<std::string, std::string>>;
using geoip_test::fixture;
namespace fs = std::filesystem;

Config city_config() {
  return {{"databases.city.file", fixture("city-v1")},
          {"databases.city.variables.country", "country.iso_code"},
          {"databases.city.variables.city.path", "city.names.en"},
          {"databases.city.variables.city.default", "unknown"},
          {"databases.city.variables.prefix", "@prefix"},
          {"databases.asn.file", fixture("asn")},
          {"databases.asn.variables.asn", "autonomous_system_number"}};
}

class GeoipPlugin : public ::testing::Test {
 protected:
  void start(const Config& config = city_config(),
             const std::vector<std::string>& claimed = {"geoip"}) {
    host.load(SPOA_PLUGIN_GEOIP_PATH);
    const auto error = host.init(config, claimed);
    ASSERT_FALSE(error) << *error;
  }
  std::string start_error(const Config& config) {
    host.load(SPOA_PLUGIN_GEOIP_PATH);
    return host.init(config, {"geoip"}).value_or("");
  }
  std::vector<Action> call(const std::vector<spoa::testing::TestArg>& args) {
    const auto r = host.request(host.call("geoip", args));
    EXPECT_EQ(r.handler_return, SPOA_DONE);
    return r.actions;
  }
  static Action var(std::string name, V value) {
    return spoa::testing::set_var(SPOA_SCOPE_TXN, std::move(name), std::move(value));
  }

  FakeHost host;
};

TEST_F(GeoipPlugin, Ipv4ArgumentGetsEveryVariableWithItsSpopType) {
  start();
  EXPECT_EQ(call({{"src", V::ipv4("192.0.2.10")}}),
            (std::vector<Action>{var("asn", V::uint32(64500)), var("city", V::string("Berlin")),
                                 var("country", V::string("DE")), var("prefix", V::int32(24))}));
}

TEST_F(GeoipPlugin, Ipv6AndTextAddressesAreLookedUpToo) {
  start();
  EXPECT_EQ(
      call({{"src", V::ipv6("2001:db8::5")}}),
      (std::vector<Action>{var("asn", V::uint32(4200000000u)), var("city", V::string("Tokyo")),
                           var("country", V::string("JP")), var("prefix", V::int32(32))}));
  EXPECT_EQ(call({{"src", V::string("198.51.100.1")}}),
            (std::vector<Action>{var("city", V::string("unknown")), var("country", V::string("US")),
                                 var("prefix", V::int32(24))}));
}

TEST_F(GeoipPlugin, MissingOrUnusableAddressAnswersNothing) {
  start();
  EXPECT_TRUE(call({}).empty());
  EXPECT_TRUE(call({{"src", V::string("not an address")}}).empty());
  EXPECT_TRUE(call({{"src", V::int64(7)}}).empty());
}

TEST_F(GeoipPlugin, SourceAndScopeAreConfigurable) {
  Config c = city_config();
  c.emplace_back("address_arg", "client");
  c.emplace_back("scope", "req");
  start(c);
  const auto actions = call({{"client", V::ipv4("192.0.2.10")}, {"src", V::ipv4("10.0.0.1")}});
  ASSERT_EQ(actions.size(), 4u);
  EXPECT_EQ(actions[2], spoa::testing::set_var(SPOA_SCOPE_REQ, "country", V::string("DE")));
}

TEST_F(GeoipPlugin, TrustedProxyForwardsTheAddressThatIsLookedUp) {
  Config c = {{"databases.city.file", fixture("city-v1")},
              {"databases.city.variables.country", "country.iso_code"},
              {"databases.city.variables.client_ip", "@address"},
              {"forwarded_header", "x-forwarded-for"},
              {"trusted_proxies", "10.0.0.0/8"}};
  start(c);
  // From a trusted proxy: the rightmost untrusted entry of the header.
  EXPECT_EQ(
      call({{"src", V::ipv4("10.1.2.3")}, {"xff", V::string("203.0.113.9, 192.0.2.5, 10.9.9.9")}}),
      (std::vector<Action>{var("client_ip", V::ipv4("192.0.2.5")),
                           var("country", V::string("DE"))}));
  // From anyone else the header is not believed.
  EXPECT_EQ(call({{"src", V::ipv4("198.51.100.1")}, {"xff", V::string("192.0.2.5")}}),
            (std::vector<Action>{var("client_ip", V::ipv4("198.51.100.1")),
                                 var("country", V::string("US"))}));
}

TEST_F(GeoipPlugin, BadClientAddressSettingFailsInitNamingTheKey) {
  Config c = city_config();
  c.emplace_back("trusted_proxies", "10.0.0.300/8");
  const std::string e = start_error(c);
  EXPECT_NE(e.find("trusted_proxies"), std::string::npos) << e;
}

TEST_F(GeoipPlugin, ConfigErrorsFailInitNamingTheKey) {
  Config c = city_config();
  c.emplace_back("colour", "blue");
  EXPECT_EQ(start_error(c), "unknown config key 'colour'");
}

TEST_F(GeoipPlugin, BadDatabaseFailsInitNamingDatabaseFileAndPath) {
  const std::string e = start_error(
      {{"databases.city.file", fixture("city-v1")}, {"databases.city.variables.c", "country.iso"}});
  EXPECT_NE(e.find("database city: " + fixture("city-v1") + ": path 'country.iso' is not in"),
            std::string::npos)
      << e;
}

TEST_F(GeoipPlugin, LoadIsLoggedWithTheDatabaseSummary) {
  start();
  EXPECT_TRUE(host.logged(
      SPOA_LOG_INFO, "database city: loaded " + fixture("city-v1") + ": SpoaTest-City, IPv6 tree"));
}

TEST_F(GeoipPlugin, ReplacedFileIsReloadedByTheWatcherAndLogged) {
  const fs::path dir = geoip_test::scratch_dir("plugin-reload");
  const fs::path db = dir / "City.mmdb";
  fs::copy_file(fixture("city-v1"), db);
  start({{"databases.city.file", db.string()},
         {"databases.city.variables.country", "country.iso_code"},
         {"reload_interval", "20ms"}});
  EXPECT_EQ(call({{"src", V::ipv4("192.0.2.1")}}),
            std::vector<Action>{var("country", V::string("DE"))});

  fs::copy_file(fixture("truncated"), dir / "next");
  fs::rename(dir / "next", db);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!host.logged(SPOA_LOG_ERROR, "keeping the version loaded last") &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(host.logged(SPOA_LOG_ERROR, "database city: " + db.string() + ": "));
  EXPECT_EQ(call({{"src", V::ipv4("192.0.2.1")}}),
            std::vector<Action>{var("country", V::string("DE"))});

  fs::copy_file(fixture("city-v2"), dir / "next");
  fs::rename(dir / "next", db);
  while (!host.logged(SPOA_LOG_INFO, "database city: reloaded") &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(call({{"src", V::ipv4("192.0.2.1")}}),
            std::vector<Action>{var("country", V::string("FR"))});
  host.shutdown();
  EXPECT_TRUE(host.violations().empty());
  fs::remove_all(dir);
}

TEST_F(GeoipPlugin, ShutdownStopsTheWatcherAndLeavesNothingBehind) {
  Config c = city_config();
  c.emplace_back("reload_interval", "10ms");
  start(c);
  host.shutdown();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(host.violations().empty());
}

#if SPOA_ABI_MINOR >= 1
TEST_F(GeoipPlugin, MetricsCountLookupsByResultAndReportLoads) {
  const fs::path dir = geoip_test::scratch_dir("plugin-metrics");
  const fs::path db = dir / "City.mmdb";
  fs::copy_file(fixture("city-v1"), db);
  start({{"databases.city.file", db.string()},
         {"databases.city.variables.country", "country.iso_code"},
         {"reload_interval", "20ms"}});
  EXPECT_EQ(host.counter("geoip_database_loads_total", {"city", "ok"}), 1u);
  EXPECT_EQ(host.gauge("geoip_database_last_load_ok", {"city"}), 1.0);
  EXPECT_GT(host.gauge("geoip_database_last_load_success_timestamp_seconds", {"city"}).value_or(0),
            1.7e9);
  EXPECT_EQ(host.gauge("geoip_database_records", {"city"}), 5.0);
  call({{"src", V::ipv4("192.0.2.1")}});
  call({{"src", V::ipv4("192.0.2.2")}});
  call({{"src", V::ipv4("10.0.0.1")}});
  call({});

  fs::copy_file(fixture("truncated"), dir / "next");
  fs::rename(dir / "next", db);
  // Published from the watcher thread: wait for it (bounded), then the exact values.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while ((host.counter("geoip_lookups_total", {"city", "found"}) != 2u ||
          host.counter("geoip_database_loads_total", {"city", "failed"}) != 1u) &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(host.counter("geoip_lookups_total", {"city", "found"}), 2u);
  EXPECT_EQ(host.counter("geoip_lookups_total", {"city", "not_found"}), 1u);
  EXPECT_EQ(host.counter("geoip_lookups_total", {"city", "error"}), 0u);
  EXPECT_EQ(host.counter("geoip_messages_without_address_total", {}), 1u);
  EXPECT_EQ(host.counter("geoip_database_loads_total", {"city", "failed"}), 1u);
  EXPECT_EQ(host.gauge("geoip_database_last_load_ok", {"city"}), 0.0);
  host.shutdown();
  fs::remove_all(dir);
}
#endif

// ---- the real host -------------------------------------------------------------------

struct HostRun {
  int status = -1;
  std::string out;
};

class GeoipRealHost : public ::testing::Test {
 protected:
  void SetUp() override {
#ifdef SPOA_HOST_BINARY
    binary_ = SPOA_HOST_BINARY;
#endif
    if (binary_.empty() || !fs::exists(binary_)) GTEST_SKIP() << "no spoa-host in this build";
    dir_ = geoip_test::scratch_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  void write_config(const std::string& variables) {
    std::ofstream(dir_ / "spoa-host.toml")
        << "[plugins.geoip]\npath = \"" << SPOA_PLUGIN_GEOIP_PATH << "\"\nmessages = [\"geoip\"]\n"
        << "[plugins.geoip.config.databases.city]\nfile = \"" << fixture("city-v1") << "\"\n"
        << "[plugins.geoip.config.databases.city.variables]\n"
        << variables;
  }
  HostRun run(const std::string& args) {
    const fs::path out = dir_ / "out";
    const std::string command = binary_ + " -c " + (dir_ / "spoa-host.toml").string() + " " + args +
                                " >" + out.string() + " 2>&1";
    const int status = std::system(command.c_str());
    std::ifstream in(out);
    std::ostringstream text;
    text << in.rdbuf();
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, text.str()};
  }

  std::string binary_;
  fs::path dir_;
};

TEST_F(GeoipRealHost, TestModeShowsALookup) {
  write_config(
      "country = \"country.iso_code\"\ncity = { path = \"city.names.en\", default = \"?\" }\n"
      "prefix = \"@prefix\"\n");
  const HostRun r = run("--test geoip src=ipv4:192.0.2.1");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("set-var txn.city string \"Berlin\"\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("set-var txn.country string \"DE\"\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("set-var txn.prefix int32 24\n"), std::string::npos) << r.out;
}

TEST_F(GeoipRealHost, CheckConfigPassesAGoodMapping) {
  write_config("country = \"country.iso_code\"\n");
  const HostRun r = run("--check-config");
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("configuration OK"), std::string::npos) << r.out;
}

TEST_F(GeoipRealHost, CheckConfigRefusesAPathTheDatabaseDoesNotHave) {
  write_config("country = \"country.isocode\"\n");
  const HostRun r = run("--check-config");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("geoip.so: init failed: database city: " + fixture("city-v1") +
                       ": path 'country.isocode' is not in any of the 5 records: 'country' is a "
                       "map with keys geoname_id, is_in_european_union, iso_code, names"),
            std::string::npos)
      << r.out;
}

}  // namespace
