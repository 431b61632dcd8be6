// geoip: MaxMind DB lookups. For the client address of each message, every configured
// database is looked up and each mapped variable answered (README.md in this folder).
// Uses only the SDK, like a third-party plugin; the lookup itself is plain C++ in src/.
#include <spoa/plugin.hpp>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "database_files.hpp"
#include "geoip_config.hpp"
#include "geoip_lookup.hpp"
#include "geoip_metrics.hpp"
#include "spoa/support/client_address_settings.hpp"
#include "spoa/support/periodic_thread.hpp"
#include "spoa/support/sdk_glue.hpp"
#include "spoa/support/watched_file.hpp"

namespace {

using spoa::geoip::GeoValue;

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
    // The file's signature is taken before it is read: one replaced while it loads is
    // noticed by the first poll.
    files_ = spoa::geoip::database_files(*geoip_, spoa::support::log_sink(log_));
    for (const auto& f : files_) {
      try {
        f.file->load_now();
      } catch (const std::exception& e) {
        throw spoa::Error(e.what());  // "database NAME: FILE: reason"
      }
    }
#if SPOA_ABI_MINOR >= 1
    metrics_ = std::make_unique<spoa::geoip::GeoipMetrics>(ctx, *geoip_);
    metrics_->flush(*geoip_, files_, 0);
#endif

    if (config.messages.empty()) {
      ctx.on_each_claimed(this, &GeoipPlugin::answer);
    } else {
      std::vector<std::string_view> only(config.messages.begin(), config.messages.end());
      ctx.on_each_claimed(only,
                          [this](const spoa::Message& m, spoa::Reply& r) { return answer(m, r); });
    }
    if (config.reload_interval.count() > 0) {  // 0: never
      watcher_ = std::make_unique<spoa::support::FileWatcher>(config.reload_interval);
      for (const auto& f : files_)
        watcher_->watch(f.file);
      watcher_->start();
    }
#if SPOA_ABI_MINOR >= 1
    metrics_thread_ = std::make_unique<spoa::support::PeriodicThread>(
        std::chrono::seconds(1),
        [this] { metrics_->flush(*geoip_, files_, no_address_.load(std::memory_order_relaxed)); });
#endif
  }

  ~GeoipPlugin() {
    metrics_thread_.reset();
    watcher_.reset();
#if SPOA_ABI_MINOR >= 1
    metrics_->flush(*geoip_, files_, no_address_.load(std::memory_order_relaxed));
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
    geoip_->answer(client->address, [&](std::string_view name, const GeoValue& value) {
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
  std::vector<spoa::geoip::DatabaseFile> files_;
  mutable std::atomic<std::uint64_t> no_address_{0};
#if SPOA_ABI_MINOR >= 1
  std::unique_ptr<spoa::geoip::GeoipMetrics> metrics_;
#endif
  // Last: destroyed first, so their threads stop before what they use goes.
  std::unique_ptr<spoa::support::FileWatcher> watcher_;
  std::unique_ptr<spoa::support::PeriodicThread> metrics_thread_;
};

}  // namespace

SPOA_PLUGIN(GeoipPlugin, "geoip", SPOA_GEOIP_VERSION)
