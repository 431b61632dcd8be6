#pragma once
// One I/O thread: its io_context, the connections it owns, its request pool and its view of
// the current plugin generation. Everything here is touched only on the worker's own
// thread, except post_completion() and the io_context's thread-safe post.
#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>
#include <unordered_map>

#include "agent/engine.hpp"
#include "agent/engine_settings.hpp"
#include "agent/orphanage.hpp"
#include "host/dispatcher.hpp"
#include "host/generation.hpp"
#include "host/request.hpp"
#include "metrics/thread_metrics.hpp"

namespace spoa::agent {

class AsyncRoutes;
class Connection;

class Worker final : public host::CompletionQueue {
 public:
  Worker(unsigned index, EngineSettings settings,
         std::shared_ptr<const host::Generation> generation);
  ~Worker() override;
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  unsigned index() const { return index_; }
  boost::asio::io_context& io() { return io_; }
  const EngineSettings& settings() const { return settings_; }
  host::RequestPool& pool() { return pool_; }
  host::Dispatcher& dispatcher() { return dispatcher_; }
  // What the connections of this thread share while they handle an event.
  EngineScratch& scratch() { return scratch_; }
  // NOTIFYs of closed async connections still waiting for their plugins.
  Orphanage& orphanage() { return orphanage_; }
  // Live async connections of every thread, by engine-id (nullptr: async never routed).
  AsyncRoutes* async_routes() const { return async_routes_; }
  void set_async_routes(AsyncRoutes* routes) { async_routes_ = routes; }

  // The generation new NOTIFYs dispatch into. Swapped on reload by posting to this worker.
  const std::shared_ptr<const host::Generation>& generation() const { return generation_; }
  // On reload; connections read settings() as they go, so this thread only.
  void set_settings(const EngineSettings& settings) { settings_ = settings; }
  void set_generation(std::shared_ptr<const host::Generation> generation) {
    generation_ = std::move(generation);
  }

  // This thread's metrics block (nullptr: metrics off). Set before the thread runs.
  metrics::ThreadMetrics* metrics() const { return metrics_; }
  void set_metrics(metrics::ThreadMetrics* metrics) {
    metrics_ = metrics;
    dispatcher_.set_metrics(metrics);
  }

  // complete() from any thread lands here; delivery runs on this worker's thread.
  void post_completion(host::Request& request, uint64_t generation) override;

  // Connection bookkeeping, worker thread only.
  void attach(const std::shared_ptr<Connection>& connection);
  void detach(Connection* connection);
  size_t connection_count() const { return connections_.size(); }
  // Called after a connection closed (worker thread), e.g. to release a max_connections slot.
  void set_on_connection_closed(std::function<void()> callback) {
    on_connection_closed_ = std::move(callback);
  }

  // Graceful: every connection finishes its in-flight NOTIFYs, sends DISCONNECT 0, closes.
  void shutdown_connections();
  // Hard: closes every connection now.
  void close_connections();

 private:
  unsigned index_;
  EngineSettings settings_;
  // Declared before io_ so they outlive it: handlers still queued in io_ hold connections
  // whose calls go back to the pool when io_ destroys them.
  host::RequestPool pool_;
  host::Dispatcher dispatcher_;
  EngineScratch scratch_;
  std::shared_ptr<const host::Generation> generation_;
  boost::asio::io_context io_{1};                 // one thread runs it: no locking inside Asio
  Orphanage orphanage_{*this, dispatcher_, io_};  // its timer lives on io_
  AsyncRoutes* async_routes_ = nullptr;
  // Keyed by address so a close finds its entry in O(1), whatever the connection count:
  // the linear scan this replaced made a health check cost 156 instead of 44 us of agent
  // CPU with 9,000 idle connections held (spoa-bench --healthcheck --agent-pid).
  std::unordered_map<Connection*, std::shared_ptr<Connection>> connections_;
  std::function<void()> on_connection_closed_;
  metrics::ThreadMetrics* metrics_ = nullptr;
};

}  // namespace spoa::agent
