#include "agent/orphanage.hpp"

#include <algorithm>

#include "agent/async_routes.hpp"
#include "agent/worker.hpp"
#include "log/log.hpp"
#include "spop/ack.hpp"

namespace spoa::agent {

Orphanage::Orphanage(Worker& worker, host::Dispatcher& dispatcher, boost::asio::io_context& io)
    : worker_(worker), dispatcher_(dispatcher), timer_(io) {}

Orphanage::~Orphanage() {
  clear();
}

void Orphanage::clear() {
  for (auto& orphan : orphans_)
    dispatcher_.abandon(orphan->call);
  orphans_.clear();
  timer_.cancel();
}

void Orphanage::adopt(host::NotifyCall& call, std::string engine_id, uint32_t max_frame_size,
                      std::chrono::steady_clock::time_point deadline) {
  auto orphan = std::make_unique<Orphan>();
  orphan->call = std::move(call);
  orphan->call.peer = {};  // the connection's name dies with it
  orphan->call.deadline = deadline;
  orphan->engine_id = std::move(engine_id);
  orphan->call.engine_id = orphan->engine_id;
  orphan->max_frame_size = max_frame_size;
  // The pending requests now report here, with the call at its new address.
  orphan->call.sink = this;
  for (host::Request* request : orphan->call.requests)
    request->call = &orphan->call;
  call = host::NotifyCall{};
  orphans_.push_back(std::move(orphan));
  arm();
}

void Orphanage::request_completed(host::NotifyCall& call, host::Request& request) {
  if (!dispatcher_.complete(call, request)) return;
  // Few orphans (only what a lost connection left): a scan finds the call's record.
  const auto it = std::find_if(orphans_.begin(), orphans_.end(),
                               [&](const auto& owned) { return &owned->call == &call; });
  if (it != orphans_.end()) deliver(it->get());
  arm();
}

void Orphanage::deliver(Orphan* orphan) {
  std::vector<uint8_t> frame(size_t{orphan->max_frame_size} + 4);
  spop::AckWriter ack(frame, orphan->max_frame_size, orphan->call.stream_id, orphan->call.frame_id);
  dispatcher_.finish(orphan->call, ack);
  const spop::EncodeResult encoded = ack.finish();
  if (encoded.error == spop::Error::none) {
    frame.resize(encoded.size);
    const bool sent = worker_.async_routes() != nullptr &&
                      worker_.async_routes()->send(orphan->engine_id, &worker_, std::move(frame));
    log::debug("ACK {}/{} of a closed connection {} (engine-id \"{}\")", orphan->call.stream_id,
               orphan->call.frame_id,
               sent ? "rerouted to a sibling connection" : "dropped: no sibling connection left",
               orphan->engine_id);
  }
  erase(orphan);
}

void Orphanage::erase(Orphan* orphan) {
  const auto it = std::find_if(orphans_.begin(), orphans_.end(),
                               [&](const auto& owned) { return owned.get() == orphan; });
  if (it != orphans_.end()) orphans_.erase(it);
}

void Orphanage::arm() {
  if (orphans_.empty()) {
    timer_.cancel();
    return;
  }
  auto earliest = orphans_.front()->call.deadline;
  for (const auto& orphan : orphans_)
    earliest = std::min(earliest, orphan->call.deadline);
  timer_.expires_at(earliest);
  timer_.async_wait([this](const boost::system::error_code& error) {
    if (error) return;
    const auto now = std::chrono::steady_clock::now();
    std::vector<Orphan*> due;
    for (const auto& orphan : orphans_) {
      if (orphan->call.deadline <= now) due.push_back(orphan.get());
    }
    // timeouts.processing: the ACK goes with what is ready, as on a live connection.
    for (Orphan* orphan : due)
      deliver(orphan);
    arm();
  });
}

}  // namespace spoa::agent
