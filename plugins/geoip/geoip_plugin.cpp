// geoip: MaxMind DB lookups. For the client address of each message, every configured
// database is looked up and each mapped variable answered (README.md in this folder).
// Uses only the SDK, like a third-party plugin; the lookup itself is plain C++ in src/.
#include <spoa/plugin.hpp>

#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "database_watcher.hpp"
#include "geoip_config.hpp"
#include "geoip_lookup.hpp"
#include "geoip_metrics.hpp"

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
      config = spoa::geoip::parse_config(entries, {"address_arg"});
    } catch (const spoa::geoip::ConfigError& e) {
      throw spoa::Error(e.what());
    }
    for (const auto& [key, value] : config.other) {
      if (key == "address_arg") {
        source_ = value;
      } else {
        throw spoa::Error("unknown config key '" + key + "'");
      }
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
    const std::optional<IpAddress> address = client_address(message);
    if (!address) {
      no_address_.fetch_add(1, std::memory_order_relaxed);
      log_.debug("message '" + std::string(message.name()) + "': no address in argument '" +
                 source_ + "', nothing looked up");
      return spoa::Result::done;
    }
    geoip_->answer(*address, [&](std::string_view name, const GeoValue& value) {
      const spoa::Status s = set_value(reply, scope_, name, value);
      if (s != spoa::Status::ok)
        log_.warn("variable '" + std::string(name) + "': " + std::string(to_string(s)));
    });
    return spoa::Result::done;
  }

 private:
  std::optional<IpAddress> client_address(const spoa::Message& message) const {
    const auto arg = message.find(source_);
    if (!arg) return std::nullopt;
    if (auto v4 = arg->as_ipv4()) return IpAddress::v4(v4->bytes);
    if (auto v6 = arg->as_ipv6()) return IpAddress::v6(v6->bytes);
    if (auto text = arg->as_bytes()) return IpAddress::parse(*text);
    return std::nullopt;
  }

  spoa::Logger log_;
  spoa::Scope scope_ = spoa::Scope::txn;
  std::string source_ = "src";
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
