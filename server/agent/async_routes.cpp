#include "agent/async_routes.hpp"

#include <boost/asio/post.hpp>

#include <algorithm>

#include "agent/connection.hpp"
#include "agent/worker.hpp"

namespace spoa::agent {

void AsyncRoutes::add(const std::string& engine_id, Worker& worker,
                      const std::shared_ptr<Connection>& connection) {
  std::lock_guard lock(mutex_);
  routes_[engine_id].push_back({&worker, connection.get(), connection});
}

void AsyncRoutes::remove(const std::string& engine_id, const Connection* connection) {
  std::lock_guard lock(mutex_);
  const auto it = routes_.find(engine_id);
  if (it == routes_.end()) return;
  std::erase_if(it->second, [&](const Route& route) { return route.key == connection; });
  if (it->second.empty()) routes_.erase(it);
}

bool AsyncRoutes::send(const std::string& engine_id, const Worker* preferred,
                       std::vector<uint8_t> frame) {
  Route chosen{nullptr, nullptr, {}};
  {
    std::lock_guard lock(mutex_);
    const auto it = routes_.find(engine_id);
    if (it == routes_.end() || it->second.empty()) return false;
    const auto& candidates = it->second;
    const auto same_thread = std::find_if(candidates.begin(), candidates.end(),
                                          [&](const Route& r) { return r.worker == preferred; });
    chosen =
        same_thread != candidates.end() ? *same_thread : candidates[next_++ % candidates.size()];
  }
  boost::asio::post(chosen.worker->io(),
                    [connection = chosen.connection, frame = std::move(frame)] {
                      if (const auto live = connection.lock()) live->send_rerouted_ack(frame);
                    });
  return true;
}

}  // namespace spoa::agent
