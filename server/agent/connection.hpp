#pragma once
// One socket from HAProxy and its SPOP state machine (spop.md §5-§8): HELLO negotiation,
// NOTIFY -> plugins -> ACK, fragments, deadlines, DISCONNECT. Lives on one worker thread,
// so none of its state is locked.
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "agent/output_buffer.hpp"
#include "host/dispatcher.hpp"
#include "host/request.hpp"
#include "metrics/thread_metrics.hpp"
#include "spop/errors.hpp"
#include "spop/frame.hpp"
#include "spop/notify.hpp"

namespace spoa::agent {

class Worker;

class Connection final : public std::enable_shared_from_this<Connection>,
                         public host::CompletionSink {
 public:
  using Socket = boost::asio::generic::stream_protocol::socket;
  using Clock = std::chrono::steady_clock;

  // `socket` must belong to worker.io(). `peer` names the other end in log lines.
  Connection(Worker& worker, Socket socket, std::string peer);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Worker thread only, from here on.
  void start();
  // Stop taking new work: answer what is in flight, send DISCONNECT 0, close.
  void shutdown_gracefully();
  // Close the socket now; pending plugin work is abandoned.
  void close_now();

  const std::string& peer() const { return peer_; }

  void request_completed(host::Request& request) override;

 private:
  enum class Phase { hello, running, closing, closed };

  // A NOTIFY with plugin work still pending, linked in arrival (= deadline) order.
  struct InFlight {
    host::NotifyCall call;
    InFlight* prev = nullptr;
    InFlight* next = nullptr;
    Clock::time_point received;  // when the read that brought the NOTIFY returned (metrics)
  };

  void read();
  void on_read(const boost::system::error_code& error, size_t bytes);
  void process_frames();
  void handle_frame(const spop::Frame& frame);
  void handle_hello(const spop::Frame& frame);
  void handle_notify(const spop::Frame& frame);
  void handle_fragment(const spop::Frame& frame);
  void handle_haproxy_disconnect(const spop::Frame& frame);
  void answer(std::span<const uint8_t> payload, uint64_t stream_id, uint64_t frame_id);
  void send_ack(host::NotifyCall& call);
  void finish_in_flight(InFlight* in_flight);

  InFlight* new_in_flight();
  void link(InFlight* in_flight);
  void unlink(InFlight* in_flight);

  void arm_idle_timer(std::chrono::milliseconds after);
  void on_idle_timer();
  void arm_deadline_timer();
  void on_deadline_timer();

  bool maybe_finish_draining();
  void flush();
  void on_written(const boost::system::error_code& error, size_t bytes);
  void fail(spop::Status status, std::string_view message);
  void disconnect(spop::Status status, std::string_view message);
  void close_socket();
  void abandon_all();
  // Metrics: what ended the connection; the first cause given wins.
  void set_close_reason(metrics::CloseReason reason, uint32_t status = 0);

  Worker& worker_;
  Socket socket_;
  std::string peer_;
  Phase phase_ = Phase::hello;
  bool healthcheck_ = false;
  bool draining_ = false;  // shutting down or HAProxy said DISCONNECT: no new work
  bool reading_ = false;   // an async_read is outstanding
  bool writing_ = false;   // an async_write is outstanding
  bool attached_ = false;

  // Negotiated in HELLO (spop.md §5); before it, our own limit caps incoming frames.
  uint32_t max_frame_size_;
  bool pipelining_ = false;
  bool async_ = false;
  bool fragmentation_ = false;
  std::string engine_id_;

  // Incoming bytes: [read_begin_, read_end_) hold unparsed data.
  std::vector<uint8_t> read_buffer_;
  size_t read_begin_ = 0;
  size_t read_end_ = 0;

  // Fragmented NOTIFY being reassembled (spop.md §6), only if fragmentation was announced.
  bool reassembling_ = false;
  uint64_t fragment_stream_id_ = 0;
  uint64_t fragment_frame_id_ = 0;
  std::vector<uint8_t> fragments_;

  // Frames waiting for the socket, and the ones the current write is sending.
  OutputBuffer output_;
  OutputBuffer writing_buffer_;

  spop::NotifyDecoder notify_;
  host::NotifyCall immediate_call_;  // reused for NOTIFYs whose plugins all finish at once
  std::vector<std::unique_ptr<InFlight>> in_flight_storage_;
  std::vector<InFlight*> free_in_flight_;
  InFlight* oldest_ = nullptr;  // deadline order
  InFlight* newest_ = nullptr;
  uint32_t in_flight_count_ = 0;

  boost::asio::steady_timer idle_timer_;      // HELLO timeout, then idle timeout
  boost::asio::steady_timer deadline_timer_;  // processing deadline of oldest_
  Clock::time_point last_activity_;
  bool deadline_armed_ = false;

  // Metrics (nullptr: off). The read times of the NOTIFYs whose ACKs wait in output_ and of
  // those the current write carries: when the write completes they become latencies.
  metrics::ThreadMetrics* metrics_;
  std::vector<Clock::time_point> ack_read_times_;
  std::vector<Clock::time_point> writing_ack_read_times_;
  metrics::CloseReason close_reason_ = metrics::CloseReason::count;  // count: not known yet
  uint32_t close_status_ = 0;
  bool read_paused_ = false;  // backpressure stopped reading; counted once per pause
};

}  // namespace spoa::agent
