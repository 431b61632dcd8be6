#include "agent/worker.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <vector>

#include "agent/connection.hpp"

namespace spoa::agent {

Worker::Worker(unsigned index, EngineSettings settings,
               std::shared_ptr<const host::Generation> generation)
    : index_(index),
      settings_(settings),
      pool_(*this),
      dispatcher_(pool_),
      generation_(std::move(generation)) {}

Worker::~Worker() {
  // Connections still held (a stopped io_context drops their handlers) abandon their
  // pending requests here, while the pool is alive; closing detaches them, so iterate a
  // copy, and tell nobody: the server is going away too.
  on_connection_closed_ = nullptr;
  close_connections();
  // If this was the last reference, plugins shut down now and may still complete() into
  // io_, which is alive until the members go.
  generation_.reset();
}

void Worker::post_completion(host::Request& request, uint64_t generation) {
  boost::asio::post(io_, [request = &request, generation] { host::deliver(*request, generation); });
}

void Worker::attach(const std::shared_ptr<Connection>& connection) {
  connections_.emplace(connection.get(), connection);
}

void Worker::detach(Connection* connection) {
  // Keep the object alive until the end of this call: the caller may be the connection.
  const auto it = connections_.find(connection);
  if (it == connections_.end()) return;
  const auto keep = it->second;
  connections_.erase(it);
  if (on_connection_closed_) on_connection_closed_();
}

namespace {
// A copy: a connection may close, and detach itself, during the loop.
std::vector<std::shared_ptr<Connection>> snapshot(
    const std::unordered_map<Connection*, std::shared_ptr<Connection>>& connections) {
  std::vector<std::shared_ptr<Connection>> all;
  all.reserve(connections.size());
  for (const auto& entry : connections)
    all.push_back(entry.second);
  return all;
}
}  // namespace

void Worker::shutdown_connections() {
  for (const auto& connection : snapshot(connections_))
    connection->shutdown_gracefully();
}

void Worker::close_connections() {
  for (const auto& connection : snapshot(connections_))
    connection->close_now();
  orphanage_.clear();  // no connection is left to carry their ACKs
}

}  // namespace spoa::agent
