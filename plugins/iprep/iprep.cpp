// iprep: IP reputation for HAProxy. Each instance judges the client address of a message
// against its sources (IP/CIDR lists, FireHOL sets, CSV with labels and scores, CrowdSec
// decisions) and answers listed/action/source/label/score/prefix variables for
// haproxy.cfg rules. Lookups run on the I/O threads against read-only snapshots; all
// loading (files, the local API) happens on the instance's own threads.
#include <spoa/plugin.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "crowdsec/decision_feed.hpp"
#include "crowdsec/lapi_client.hpp"
#include "iprep_config.hpp"
#include "list_formats.hpp"
#include "reputation.hpp"
#include "spoa/support/sdk_glue.hpp"
#include "spoa/support/text_lines.hpp"
#include "spoa/support/watched_file.hpp"

namespace spoa::iprep {
namespace {

std::vector<std::pair<std::string_view, std::string_view>> entries_of(const spoa::Config& c) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  for (const spoa::ConfigEntry& e : c)
    out.emplace_back(e.key, e.value);
  return out;
}

class Iprep {
 public:
  explicit Iprep(spoa::InitContext& ctx)
      : log_(ctx.logger()), config_(parse_iprep_config(entries_of(ctx.config()))) {
    const support::LogSink sink = support::log_sink(log_);
    watcher_ = std::make_unique<support::FileWatcher>(config_.reload_interval);
    std::vector<Source> sources;
    for (const SourceConfig& sc : config_.sources) {
      Source s;
      s.name = sc.name;
      s.action = sc.action;
      s.kind = sc.type;
      s.allowlist = sc.action == "allow";
      s.health = std::make_shared<support::SourceHealth>(sc.name);
      if (sc.format) {
        const ListFormat format = *sc.format;
        const ListDefaults defaults{sc.label, sc.score};
        auto output = s.data;
        auto file = std::make_shared<support::WatchedFile>(
            sc.path,
            [output, format, defaults](const std::string& path) {
              const std::string text = support::read_file(path);
              auto data = parse_list(text, path, format, defaults);
              const std::size_t n = data->entries;
              output->publish(std::move(data));
              return n;
            },
            s.health, sink);
        // A broken or missing list at start is a config error (FILE:LINE in the reason),
        // not an instance that silently judges nobody.
        file->load_now();
        log_.info("source '" + sc.name + "': " + std::to_string(s.health->view().entries) +
                  " entries from " + sc.path);
        watcher_->watch(std::move(file));
      } else {
        const auto endpoint = crowdsec::parse_lapi_url(sc.url);
        if (!endpoint)
          throw spoa::Error("config key 'sources." + sc.name + ".url': '" + sc.url +
                            "' is not an http://HOST:PORT/ URL");
        auto client = std::make_shared<crowdsec::LapiClient>(*endpoint, sc.api_key, sc.timeout);
        crowdsec::DecisionFeed::Options options;
        options.types = sc.decision_types;
        options.poll_interval = sc.poll_interval;
        auto feed = std::make_unique<crowdsec::DecisionFeed>(
            sc.name, options, [client](const std::string& target) { return client->get(target); },
            s.data, s.health, sink);
        // A local API that is down at start is not fatal (it may start after us): the
        // source serves nothing until a pull succeeds, and says so.
        if (!feed->pull())
          log_.warn("source '" + sc.name +
                    "': the local API did not answer at start; retrying every " +
                    std::to_string(sc.poll_interval.count()) + "ms");
        feeds_.push_back(std::move(feed));
      }
      sources.push_back(std::move(s));
    }
    reputation_ = std::make_unique<Reputation>(std::move(sources));
    watcher_->start();
    for (auto& f : feeds_)
      f->start();

    if (!config_.messages.empty())
      ctx.on_each_claimed(config_.messages,
                          [this](const spoa::Message& m, spoa::Reply& r) { return answer(m, r); });
    else
      ctx.on_each_claimed(this, &Iprep::answer);
  }

  ~Iprep() {
    // Loader threads first: they publish into the sources the reputation owns.
    feeds_.clear();
    if (watcher_) watcher_->stop();
  }

  spoa::Result answer(const spoa::Message& message, spoa::Reply& reply) const {
    const auto client = support::client_address_of(message, config_.client);
    if (!client) {
      no_address_.fetch_add(1, std::memory_order_relaxed);
      log_.debug("message '" + std::string(message.name()) + "': no argument '" +
                 config_.client.address_arg + "' with an address; nothing judged");
      return spoa::Result::done;
    }
    const spoa::Scope scope = config_.scope;
    const support::IpAddress& ip = client->address;
    if (ip.is_v4()) {
      spoa::Ipv4 v;
      v.bytes = ip.v4_bytes();
      reply.set(scope, "client_ip", v);
    } else {
      spoa::Ipv6 v;
      v.bytes = ip.v6_bytes();
      reply.set(scope, "client_ip", v);
    }
    const Verdict verdict = reputation_->judge(ip);
    reply.set(scope, "listed", verdict.listed);
    if (verdict.source == nullptr) {
      clean_.fetch_add(1, std::memory_order_relaxed);
      return spoa::Result::done;
    }
    (verdict.listed ? listed_ : allowed_).fetch_add(1, std::memory_order_relaxed);
    reply.set(scope, "action", verdict.action);
    reply.set(scope, "source", std::string_view(verdict.source->name));
    if (!verdict.label.empty()) reply.set(scope, "label", verdict.label);
    if (verdict.score) reply.set(scope, "score", *verdict.score);
    if (verdict.prefix) reply.set(scope, "prefix", verdict.prefix->to_string());
    return spoa::Result::done;
  }

 private:
  spoa::Logger log_;
  IprepConfig config_;
  std::unique_ptr<Reputation> reputation_;
  std::unique_ptr<support::FileWatcher> watcher_;
  std::vector<std::unique_ptr<crowdsec::DecisionFeed>> feeds_;
  mutable std::atomic<std::uint64_t> listed_{0}, allowed_{0}, clean_{0}, no_address_{0};
};

}  // namespace
}  // namespace spoa::iprep

SPOA_PLUGIN(spoa::iprep::Iprep, "iprep", SPOA_IPREP_VERSION)
