#pragma once
// NOTIFYs whose connection closed while their plugins were still working, kept on the I/O
// thread of their requests until they finish (or their processing deadline passes), so
// that their ACK can go out on a sibling connection of the same engine-id (async_routes.hpp).
// Only for connections that negotiated `async`; without it such work is abandoned.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "host/dispatcher.hpp"
#include "host/request.hpp"

namespace spoa::agent {

class AsyncRoutes;
class Worker;

class Orphanage final : public host::CompletionSink {
 public:
  Orphanage(Worker& worker, host::Dispatcher& dispatcher, boost::asio::io_context& io);
  ~Orphanage() override;
  Orphanage(const Orphanage&) = delete;
  Orphanage& operator=(const Orphanage&) = delete;

  // Takes over a pending call (its requests now complete here). `deadline`: when the ACK
  // goes with whatever is ready.
  void adopt(host::NotifyCall& call, std::string engine_id, uint32_t max_frame_size,
             std::chrono::steady_clock::time_point deadline);
  size_t size() const { return orphans_.size(); }
  // The server stops: everything left is abandoned.
  void clear();

  void request_completed(host::NotifyCall& call, host::Request& request) override;

 private:
  struct Orphan {
    host::NotifyCall call;
    std::string engine_id;
    uint32_t max_frame_size = 0;
  };
  void deliver(Orphan* orphan);
  void erase(Orphan* orphan);
  void arm();

  Worker& worker_;
  host::Dispatcher& dispatcher_;
  boost::asio::steady_timer timer_;
  std::vector<std::unique_ptr<Orphan>> orphans_;  // few: only what a lost connection left
};

}  // namespace spoa::agent
