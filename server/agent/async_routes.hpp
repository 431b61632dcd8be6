#pragma once
// HAProxy <= 3.0 with `option async` accepts an ACK on any connection of the same
// engine-id, i.e. of the same HAProxy thread (spop.md §6): its waiting NOTIFYs stay queued
// per thread, not per connection, as long as one connection of that thread lives. So when
// a connection closes with NOTIFYs pending, their ACKs can still reach HAProxy through a
// sibling. This table knows the live async connections of each engine-id, on every I/O
// thread; it is the only state shared between workers here, hence the mutex (taken on
// HELLO, close, and to route an ACK: never per frame).
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace spoa::agent {

class Connection;
class Worker;

class AsyncRoutes {
 public:
  void add(const std::string& engine_id, Worker& worker, const std::shared_ptr<Connection>& c);
  void remove(const std::string& engine_id, const Connection* connection);
  // Sends one whole frame (an ACK) on a live connection of `engine_id`, on its own thread;
  // one on `preferred` if there is one. False when none is left: the ACK is lost, as it
  // would be without async.
  bool send(const std::string& engine_id, const Worker* preferred, std::vector<uint8_t> frame);

 private:
  struct Route {
    Worker* worker;
    const Connection* key;
    std::weak_ptr<Connection> connection;
  };
  std::mutex mutex_;
  std::unordered_map<std::string, std::vector<Route>> routes_;
  size_t next_ = 0;  // spreads rerouted ACKs over the siblings
};

}  // namespace spoa::agent
