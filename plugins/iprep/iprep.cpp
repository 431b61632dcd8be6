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
#include "spoa/support/periodic_thread.hpp"
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
    start_metrics(ctx);

    if (!config_.messages.empty())
      ctx.on_each_claimed(config_.messages,
                          [this](const spoa::Message& m, spoa::Reply& r) { return answer(m, r); });
    else
      ctx.on_each_claimed(this, &Iprep::answer);
  }

  ~Iprep() {
    metrics_thread_.reset();
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
  // Metrics (ABI 1.1 hosts): counted in atomics on the I/O threads and handed to the host
  // once a second from a thread of our own, so a lookup never calls into the host for them.
  //   spoa_plugin_iprep_lookups_total{plugin,result}    listed, allowed, clean, no_address
  //   spoa_plugin_iprep_source_entries{plugin,source}   entries in the data being served
  //   spoa_plugin_iprep_source_last_success_seconds{plugin,source}   unix time, 0 = never
  //   spoa_plugin_iprep_source_up{plugin,source}        1 if the newest load/pull succeeded
  //   spoa_plugin_iprep_source_loads_total{plugin,source,result}     ok, failed
  void start_metrics([[maybe_unused]] spoa::InitContext& ctx) {
#if SPOA_ABI_MINOR >= 1
    try {
      lookups_metric_ = ctx.counter("iprep_lookups_total", "Lookups by result", {"result"});
      entries_metric_ = ctx.gauge("iprep_source_entries", "Entries served per source", {"source"});
      last_success_metric_ = ctx.gauge("iprep_source_last_success_seconds",
                                       "Unix time of the last successful load", {"source"});
      up_metric_ = ctx.gauge("iprep_source_up", "1 if the newest load succeeded", {"source"});
      loads_metric_ = ctx.counter("iprep_source_loads_total", "Loads and pulls by result",
                                  {"source", "result"});
    } catch (const spoa::Error& e) {
      log_.warn(std::string("metrics unavailable: ") + e.what());
      return;
    }
    if (!lookups_metric_) return;  // a 1.0 host: no metrics table
    published_.resize(reputation_->sources().size());
    publish_metrics();
    metrics_thread_ = std::make_unique<support::PeriodicThread>(std::chrono::seconds(1),
                                                                [this] { publish_metrics(); });
#endif
  }

#if SPOA_ABI_MINOR >= 1
  void publish_metrics() noexcept {
    const auto flush = [this](std::atomic<std::uint64_t>& counter, std::uint64_t& done,
                              std::string_view result) {
      const std::uint64_t now = counter.load(std::memory_order_relaxed);
      if (now != done) lookups_metric_.add(now - done, {result});
      done = now;
    };
    flush(listed_, flushed_[0], "listed");
    flush(allowed_, flushed_[1], "allowed");
    flush(clean_, flushed_[2], "clean");
    flush(no_address_, flushed_[3], "no_address");
    const auto& sources = reputation_->sources();
    for (std::size_t i = 0; i < sources.size(); ++i) {
      const auto v = sources[i].health->view();
      const std::string_view name = sources[i].name;
      entries_metric_.set(static_cast<double>(v.entries), {name});
      last_success_metric_.set(v.last_success, {name});
      up_metric_.set(v.last_ok ? 1.0 : 0.0, {name});
      if (v.loads_ok != published_[i].first)
        loads_metric_.add(v.loads_ok - published_[i].first, {name, "ok"});
      if (v.loads_failed != published_[i].second)
        loads_metric_.add(v.loads_failed - published_[i].second, {name, "failed"});
      published_[i] = {v.loads_ok, v.loads_failed};
    }
  }

  spoa::Metric lookups_metric_, entries_metric_, last_success_metric_, up_metric_, loads_metric_;
  std::uint64_t flushed_[4] = {0, 0, 0, 0};
  std::vector<std::pair<std::uint64_t, std::uint64_t>> published_;  // loads ok, failed
#endif

  spoa::Logger log_;
  IprepConfig config_;
  std::unique_ptr<Reputation> reputation_;
  std::unique_ptr<support::FileWatcher> watcher_;
  std::vector<std::unique_ptr<crowdsec::DecisionFeed>> feeds_;
  mutable std::atomic<std::uint64_t> listed_{0}, allowed_{0}, clean_{0}, no_address_{0};
  std::unique_ptr<support::PeriodicThread> metrics_thread_;  // last: stopped first
};

}  // namespace
}  // namespace spoa::iprep

SPOA_PLUGIN(spoa::iprep::Iprep, "iprep", SPOA_IPREP_VERSION)
