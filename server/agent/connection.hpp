#pragma once
// One socket from HAProxy: the thin Asio adapter around its Engine (engine.hpp), which
// holds the whole SPOP state machine. The adapter owns the socket and the one timer, reads
// when the engine wants bytes, writes what it queued, and turns plugin completions into
// engine calls. Lives on one worker thread, so none of its state is locked.
//
// Reads wait for readiness (async_wait) and then read into the thread's shared buffer, so
// an idle connection holds no read buffer at all.
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <string>
#include <vector>

#include "agent/engine.hpp"
#include "host/dispatcher.hpp"
#include "host/request.hpp"

namespace spoa::agent {

class Worker;

class Connection final : public std::enable_shared_from_this<Connection>,
                         public host::CompletionSink,
                         private EngineEvents {
 public:
  using Socket = boost::asio::generic::stream_protocol::socket;

  // `socket` must belong to worker.io(). `peer` names the other end in log lines.
  Connection(Worker& worker, Socket socket, std::string peer);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Worker thread only, from here on.
  void start();
  // Stop taking new work: answer what was received, send DISCONNECT 0, close.
  void shutdown_gracefully();
  // Close the socket now; pending plugin work is abandoned.
  void close_now();

  const std::string& peer() const { return engine_.peer(); }

  void request_completed(host::NotifyCall& call, host::Request& request) override;
  // From AsyncRoutes, on this connection's thread: a sibling's ACK to send.
  void send_rerouted_ack(const std::vector<uint8_t>& frame);

 private:
  // EngineEvents
  uint32_t dispatch(const spop::NotifyDecoder& notify, host::NotifyCall& call,
                    uint32_t action_limit) override;
  void finish(host::NotifyCall& call, spop::AckWriter& ack) override;
  void abandon(host::NotifyCall& call) override;
  void arm_timer(TimePoint at) override;
  bool adopt(host::NotifyCall& call, TimePoint deadline) override;

  // After every event: close, write, or read, as the engine now wants.
  void pump();
  void read_now();
  void wait_readable();
  void write();
  void on_written(const boost::system::error_code& error, size_t bytes);
  void transport_error(const boost::system::error_code& error, std::string_view during);
  void close_socket();

  Worker& worker_;
  Socket socket_;
  Engine engine_;
  boost::asio::steady_timer timer_;
  bool reading_ = false;  // an async_wait for readability (or a posted read) is outstanding
  bool writing_ = false;  // an async_write_some is outstanding
  // Bytes may wait in the socket that no readiness event will announce (the last read
  // filled the buffer, or reads paused): read before waiting.
  bool may_have_data_ = true;
  bool attached_ = false;
  bool socket_closed_ = false;
  bool routed_ = false;  // listed in AsyncRoutes under the engine's engine-id
};

}  // namespace spoa::agent
