// geoip: MaxMind DB lookups. For the client address of each message, every configured
// database is looked up and each mapped variable answered (README.md in this folder).
// Uses only the SDK, like a third-party plugin; the lookup itself is plain C++ in src/.
#include <spoa/plugin.hpp>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "database_watcher.hpp"
#include "geoip_config.hpp"
#include "geoip_lookup.hpp"
#include "geoip_metrics.hpp"
#include "spoa/support/client_address_settings.hpp"
#include "spoa/support/sdk_glue.hpp"

namespace {

using spoa::geoip::GeoValue;
using spoa::geoip::IpAddress;

spoa::Status set_value(spoa::Reply& reply, spoa::Scope scope, std::string_view name,
                       const GeoValue& v) {
  switch (v.kind) {
    case GeoValue::Kind::boolean:
      return reply.set(scope, name, v.boolean);
    case GeoValue::Kind::int32:
      return reply.set(scope, name, v.int32);
    case GeoValue::Kind::uint32:
      return reply.set(scope, name, v.uint32);
    case GeoValue::Kind::uint64:
      return reply.set(scope, name, v.uint64);
    case GeoValue::Kind::string:
      return reply.set(scope, name, v.bytes);
    case GeoValue::Kind::binary:
      return reply.set(scope, name, spoa::Binary{v.bytes});
    case GeoValue::Kind::ipv4: {
      spoa::Ipv4 ip;
      std::memcpy(ip.bytes.data(), v.ip, 4);
      return reply.set(scope, name, ip);
    }
    case GeoValue::Kind::ipv6: {
      spoa::Ipv6 ip;
      std::memcpy(ip.bytes.data(), v.ip, 16);
      return reply.set(scope, name, ip);
    }
  }
  return spoa::Status::invalid_argument;
}

class GeoipPlugin {
 public:
  explicit GeoipPlugin(spoa::InitContext& ctx) : log_(ctx.logger()) {
    spoa::geoip::ConfigEntries entries;
    for (const auto& e : ctx.config())
      entries.emplace_back(e.key, e.value);
    spoa::geoip::GeoipConfig config;
    try {
      config = spoa::geoip::parse_config(entries, spoa::support::client_address_keys());
    } catch (const spoa::geoip::ConfigError& e) {
      throw spoa::Error(e.what());
    }
    // The client address keys, read as every bundled plugin reads them (plugins/support).
    const auto& client_keys = spoa::support::client_address_keys();
    for (const auto& [key, value] : config.other) {
      if (std::find(client_keys.begin(), client_keys.end(), key) == client_keys.end())
        throw spoa::Error("unknown config key '" + key + "'");
    }
    try {
      client_ = spoa::support::parse_client_address_settings(
          [&](std::string_view key) -> std::optional<std::string_view> {
            for (const auto& [k, v] : config.other)
              if (k == key) return std::string_view(v);
            return std::nullopt;
          });
    } catch (const std::invalid_argument& e) {
      throw spoa::Error(e.what());
    }
    const auto scope = spoa::parse_scope(config.scope);
    if (!scope)
      throw spoa::Error("config key 'scope': '" + config.scope +
                        "' is not one of proc, sess, txn, req, res");
    scope_ = *scope;

    geoip_ = std::make_unique<spoa::geoip::Geoip>(config);
    geoip_->on_lookup_error = [log = log_](const std::string& text) { log.error(text); };
    // Signatures first: a file replaced while it loads is then noticed by the first poll.
    watcher_ = std::make_unique<spoa::geoip::DatabaseWatcher>(
        *geoip_, [log = log_](spoa::geoip::DatabaseWatcher::Level level, const std::string& text) {
          if (level == spoa::geoip::DatabaseWatcher::Level::info) {
            log.info(text);
          } else {
            log.error(text);
          }
        });
#if SPOA_ABI_MINOR >= 1
    metrics_ = std::make_unique<spoa::geoip::GeoipMetrics>(ctx, *geoip_);
#endif
    for (auto& slot : geoip_->slots()) {
      try {
        const auto loaded = slot->load();
        log_.info("database " + slot->config().name + ": loaded " + slot->config().file + ": " +
                  loaded->summary());
      } catch (const std::exception& e) {
        throw spoa::Error("database " + slot->config().name + ": " + e.what());
      }
#if SPOA_ABI_MINOR >= 1
      metrics_->loaded(*slot, true);
#endif
    }

    if (config.messages.empty()) {
      ctx.on_each_claimed(this, &GeoipPlugin::answer);
    } else {
      std::vector<std::string_view> only(config.messages.begin(), config.messages.end());
      ctx.on_each_claimed(only,
                          [this](const spoa::Message& m, spoa::Reply& r) { return answer(m, r); });
    }
#if SPOA_ABI_MINOR >= 1
    watcher_->on_load(
        [this](const spoa::geoip::DatabaseSlot& slot, bool ok) { metrics_->loaded(slot, ok); });
    watcher_->start(config.reload_interval, std::chrono::seconds(1), [this] {
      metrics_->flush(*geoip_, no_address_.load(std::memory_order_relaxed));
    });
#else
    watcher_->start(config.reload_interval);
#endif
  }

  ~GeoipPlugin() {
    watcher_.reset();
#if SPOA_ABI_MINOR >= 1
    metrics_->flush(*geoip_, no_address_.load(std::memory_order_relaxed));
#endif
  }

  spoa::Result answer(const spoa::Message& message, spoa::Reply& reply) const {
    const auto client = spoa::support::client_address_of(message, client_);
    if (!client) {
      no_address_.fetch_add(1, std::memory_order_relaxed);
      log_.debug("message '" + std::string(message.name()) + "': no address in argument '" +
                 client_.address_arg + "', nothing looked up");
      return spoa::Result::done;
    }
    const spoa::support::IpAddress& a = client->address;
    const IpAddress address = a.is_v4() ? IpAddress::v4(a.v4_bytes()) : IpAddress::v6(a.v6_bytes());
    geoip_->answer(address, [&](std::string_view name, const GeoValue& value) {
      const spoa::Status s = set_value(reply, scope_, name, value);
      if (s != spoa::Status::ok)
        log_.warn("variable '" + std::string(name) + "': " + std::string(to_string(s)));
    });
    return spoa::Result::done;
  }

 private:
  spoa::Logger log_;
  spoa::Scope scope_ = spoa::Scope::txn;
  spoa::support::ClientAddressSettings client_;
  std::unique_ptr<spoa::geoip::Geoip> geoip_;
  mutable std::atomic<std::uint64_t> no_address_{0};
#if SPOA_ABI_MINOR >= 1
  std::unique_ptr<spoa::geoip::GeoipMetrics> metrics_;
#endif
  // Last: destroyed first, so its thread stops before what it uses goes.
  std::unique_ptr<spoa::geoip::DatabaseWatcher> watcher_;
};

}  // namespace

SPOA_PLUGIN(GeoipPlugin, "geoip", SPOA_GEOIP_VERSION)
