// Lookup cost of the geoip plugin's core, per address: the libmaxminddb tree walk alone,
// and the whole answer (snapshot, tree walk, data paths, conversion) for the variables an
// operator typically maps. Addresses are inside the database's networks (hits), cycled
// from FILE.addresses, which make_fixtures.pl --bench writes beside the database.
#include <benchmark/benchmark.h>

#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "geoip_lookup.hpp"

namespace {

using namespace spoa::geoip;

std::vector<IpAddress> addresses(IpAddress::Family family) {
  std::ifstream in(std::string(GEOIP_BENCH_DB) + ".addresses");
  std::vector<IpAddress> out;
  for (std::string line; std::getline(in, line);) {
    const auto a = IpAddress::parse(line);
    if (a && a->family() == family) out.push_back(*a);
  }
  if (out.empty()) throw std::runtime_error("no addresses in " GEOIP_BENCH_DB ".addresses");
  return out;
}

// Shared by the benchmark threads, built once (under a lock: threads start together).
Geoip& geoip(const std::string& variables) {
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<Geoip>> cache;
  std::lock_guard lock(mutex);
  auto& g = cache[variables];
  if (!g) {
    ConfigEntries entries{{"databases.city.file", GEOIP_BENCH_DB}};
    if (variables == "country") {
      entries.emplace_back("databases.city.variables.country", "country.iso_code");
    } else {
      entries.emplace_back("databases.city.variables.country", "country.iso_code");
      entries.emplace_back("databases.city.variables.city", "city.names.en");
      entries.emplace_back("databases.city.variables.region", "subdivisions.0.iso_code");
      entries.emplace_back("databases.city.variables.prefix", "@prefix");
    }
    g = std::make_unique<Geoip>(parse_config(entries));
    g->load_all();
  }
  return *g;
}

void tree_lookup(benchmark::State& state, IpAddress::Family family) {
  const auto list = addresses(family);
  const auto db = geoip("country").slots()[0]->current();
  std::size_t i = 0;
  for (auto _ : state) {
    const LookupResult r = db->database().lookup(list[i++ % list.size()]);
    benchmark::DoNotOptimize(r);
  }
}

void answer(benchmark::State& state, IpAddress::Family family, const std::string& variables) {
  const auto list = addresses(family);
  const Geoip& g = geoip(variables);
  std::size_t i = 0, values = 0;
  for (auto _ : state) {
    g.answer(list[i++ % list.size()], [&](std::string_view, const GeoValue& v) {
      benchmark::DoNotOptimize(v);
      ++values;
    });
  }
  state.counters["values_per_lookup"] =
      static_cast<double>(values) / static_cast<double>(state.iterations());
}

BENCHMARK_CAPTURE(tree_lookup, v4, IpAddress::Family::v4);
BENCHMARK_CAPTURE(tree_lookup, v6, IpAddress::Family::v6);
BENCHMARK_CAPTURE(answer, v4_country, IpAddress::Family::v4, std::string("country"));
// Two threads answering at once share the snapshot's reference count (one cache line).
BENCHMARK_CAPTURE(answer, v4_country_2_threads, IpAddress::Family::v4, std::string("country"))
    ->Threads(2)
    ->UseRealTime();
BENCHMARK_CAPTURE(answer, v6_country, IpAddress::Family::v6, std::string("country"));
BENCHMARK_CAPTURE(answer, v4_city_4_variables, IpAddress::Family::v4, std::string("city"));
BENCHMARK_CAPTURE(answer, v6_city_4_variables, IpAddress::Family::v6, std::string("city"));

}  // namespace

BENCHMARK_MAIN();
