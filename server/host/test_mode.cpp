#include "host/test_mode.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <ostream>

#include "host/dispatcher.hpp"
#include "host/plugin_instance.hpp"
#include "spop/ack.hpp"
#include "spop/frame.hpp"
#include "spop/notify.hpp"

namespace spoa::host {

namespace {

// The home thread of test mode is the main thread, waiting on this queue.
class BlockingCompletionQueue final : public CompletionQueue {
 public:
  void post_completion(Request& request, uint64_t generation) override {
    {
      std::lock_guard lock(mutex_);
      queue_.emplace_back(&request, generation);
    }
    ready_.notify_one();
  }
  bool wait_and_deliver(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    if (!ready_.wait_until(lock, deadline, [&] { return !queue_.empty(); })) return false;
    auto [request, generation] = queue_.front();
    queue_.pop_front();
    lock.unlock();
    deliver(*request, generation);
    return true;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::pair<Request*, uint64_t>> queue_;
};

class Waiter final : public CompletionSink {
 public:
  explicit Waiter(Dispatcher& dispatcher) : dispatcher_(dispatcher) {}
  void request_completed(NotifyCall& call, Request& request) override {
    dispatcher_.complete(call, request);
  }

 private:
  Dispatcher& dispatcher_;
};

template <typename T>
std::optional<T> parse_integer(const std::string& text) {
  T value{};
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

std::optional<std::string> parse_hex(const std::string& text) {
  if (text.size() % 2 != 0) return std::nullopt;
  std::string bytes;
  for (size_t i = 0; i < text.size(); i += 2) {
    unsigned byte = 0;
    const auto [ptr, ec] = std::from_chars(text.data() + i, text.data() + i + 2, byte, 16);
    if (ec != std::errc() || ptr != text.data() + i + 2) return std::nullopt;
    bytes.push_back(static_cast<char>(byte));
  }
  return bytes;
}

// Turns name=type:value into a value; `storage` keeps the bytes that the view points at.
std::optional<spop::Value> parse_value(const config::TestArg& arg, std::string& storage,
                                       std::string& error) {
  const std::string& v = arg.value;
  auto bad = [&](std::string_view expected) {
    error = "argument \"" + arg.name + "\": " + arg.type + " value \"" + v + "\" is not " +
            std::string(expected);
    return std::nullopt;
  };
  if (arg.type == "null") return spop::Value::null();
  if (arg.type == "bool") {
    if (v == "true" || v == "1") return spop::Value::boolean(true);
    if (v == "false" || v == "0") return spop::Value::boolean(false);
    return bad("true, false, 1 or 0");
  }
  if (arg.type == "int32") {
    if (auto n = parse_integer<int32_t>(v)) return spop::Value::int32(*n);
    return bad("a 32-bit signed integer");
  }
  if (arg.type == "uint32") {
    if (auto n = parse_integer<uint32_t>(v)) return spop::Value::uint32(*n);
    return bad("a 32-bit unsigned integer");
  }
  if (arg.type == "int64") {
    if (auto n = parse_integer<int64_t>(v)) return spop::Value::int64(*n);
    return bad("a 64-bit signed integer");
  }
  if (arg.type == "uint64") {
    if (auto n = parse_integer<uint64_t>(v)) return spop::Value::uint64(*n);
    return bad("a 64-bit unsigned integer");
  }
  if (arg.type == "ipv4" || arg.type == "ipv6") {
    const bool v4 = arg.type == "ipv4";
    storage.assign(v4 ? 4 : 16, '\0');
    if (inet_pton(v4 ? AF_INET : AF_INET6, v.c_str(), storage.data()) != 1) {
      return bad(v4 ? "an IPv4 address" : "an IPv6 address");
    }
    return v4 ? spop::Value::ipv4(storage) : spop::Value::ipv6(storage);
  }
  if (arg.type == "string") {
    storage = v;
    return spop::Value::string(storage);
  }
  if (arg.type == "binary") {
    auto bytes = parse_hex(v);
    if (!bytes) return bad("hexadecimal bytes (e.g. 00ff10)");
    storage = std::move(*bytes);
    return spop::Value::binary(storage);
  }
  error = "argument \"" + arg.name + "\": unknown type \"" + arg.type + "\"";
  return std::nullopt;
}

constexpr std::string_view scope_name(spop::Scope scope) {
  constexpr std::string_view names[] = {"proc", "sess", "txn", "req", "res"};
  const auto index = static_cast<size_t>(scope);
  return index < 5 ? names[index] : "?";
}

void print_value(std::ostream& out, const spop::Value& value) {
  out << spop::name_of(value.type);
  switch (value.type) {
    case spop::DataType::null:
      return;
    case spop::DataType::boolean:
      out << (value.as_bool() ? " true" : " false");
      return;
    case spop::DataType::int32:
    case spop::DataType::int64:
      out << ' ' << value.as_int64();
      return;
    case spop::DataType::uint32:
    case spop::DataType::uint64:
      out << ' ' << value.as_uint64();
      return;
    case spop::DataType::ipv4:
    case spop::DataType::ipv6: {
      char text[INET6_ADDRSTRLEN] = {};
      inet_ntop(value.type == spop::DataType::ipv4 ? AF_INET : AF_INET6, value.bytes.data(), text,
                sizeof text);
      out << ' ' << text;
      return;
    }
    case spop::DataType::string: {
      out << " \"";
      for (const char c : value.bytes) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
          out << '\\' << c;
        } else if (u < 0x20 || u >= 0x7f) {
          constexpr char digits[] = "0123456789abcdef";
          out << "\\x" << digits[u >> 4] << digits[u & 15];
        } else {
          out << c;
        }
      }
      out << '"';
      return;
    }
    case spop::DataType::binary: {
      constexpr char digits[] = "0123456789abcdef";
      out << ' ';
      for (const char c : value.bytes) {
        const auto u = static_cast<unsigned char>(c);
        out << digits[u >> 4] << digits[u & 15];
      }
      return;
    }
  }
}

}  // namespace

int run_test_mode(const config::Config& config, std::shared_ptr<Generation> generation,
                  const std::string& message, const std::vector<config::TestArg>& args,
                  std::ostream& out, std::ostream& err) {
  // Declared before anything a plugin may hold: plugins complete into them until their
  // shutdown() returns, which happens when `generation` is reset at the end.
  BlockingCompletionQueue home;
  RequestPool pool(home);
  struct ShutdownFirst {
    std::shared_ptr<Generation>& generation;
    BlockingCompletionQueue& home;
    ~ShutdownFirst() {
      generation.reset();
      while (home.wait_and_deliver(std::chrono::steady_clock::now())) {
      }
    }
  } shutdown_first{generation, home};

  const Route* route = generation->find(message);
  if (route == nullptr) {
    err << "no plugin instance claims message \"" << message << "\"\n";
    return 1;
  }
  if (args.size() > 255) {
    err << "a message carries at most 255 arguments (nb-args is one byte)\n";
    return 1;
  }

  // The message goes through the real codec, as a NOTIFY frame from HAProxy would.
  std::vector<std::string> storage(args.size());
  std::vector<spop::Value> values;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string error;
    auto value = parse_value(args[i], storage[i], error);
    if (!value) {
      err << error << '\n';
      return 1;
    }
    values.push_back(*value);
  }
  const uint32_t max_frame_size = config.server.max_frame_size;
  std::vector<uint8_t> frame(size_t{max_frame_size} + 4);
  spop::NotifyWriter writer(frame, 1, 1);
  bool fits = writer.add_message(message, static_cast<uint8_t>(args.size()));
  for (size_t i = 0; fits && i < args.size(); ++i)
    fits = writer.add_arg(args[i].name, values[i]);
  const spop::EncodeResult encoded = writer.finish();
  if (!fits || encoded.error != spop::Error::none) {
    err << "the message does not fit in server.max_frame_size (" << max_frame_size << ")\n";
    return 1;
  }
  const spop::FrameResult decoded_frame =
      spop::decode_frame(std::span<const uint8_t>(frame.data(), encoded.size), max_frame_size);
  spop::NotifyDecoder notify;
  if (decoded_frame.error != spop::Error::none ||
      notify.decode(decoded_frame.frame.payload) != spop::Error::none) {
    err << "internal error: the NOTIFY built for the test does not decode\n";
    return 1;
  }

  Dispatcher dispatcher(pool);
  NotifyCall call;
  Waiter waiter(dispatcher);
  const uint32_t action_limit =
      max_frame_size - static_cast<uint32_t>(spop::frame_header_size(1, 1) - 4);
  const auto deadline = std::chrono::steady_clock::now() + config.timeouts.processing;
  call.stream_id = 1;
  call.frame_id = 1;
  call.peer = "--test";
  call.deadline = deadline;
  dispatcher.dispatch(*generation, notify, call, &waiter, action_limit);
  while (call.pending > 0 && home.wait_and_deliver(deadline)) {
  }
  const bool missed_deadline = call.pending > 0;
  const bool failed = !missed_deadline && !call.requests.empty() &&
                      call.requests.front()->state().phase() != Phase::done;

  std::vector<uint8_t> ack_frame(size_t{max_frame_size} + 4);
  spop::AckWriter ack(ack_frame, max_frame_size, 1, 1);
  dispatcher.finish(call, ack);
  const spop::EncodeResult ack_size = ack.finish();
  std::vector<spop::Action> actions;
  const spop::FrameResult ack_decoded =
      spop::decode_frame(std::span<const uint8_t>(ack_frame.data(), ack_size.size), max_frame_size);
  if (ack_size.error != spop::Error::none || ack_decoded.error != spop::Error::none ||
      spop::decode_ack(ack_decoded.frame.payload, actions) != spop::Error::none) {
    err << "internal error: the ACK does not decode\n";
    return 1;
  }
  for (const spop::Action& action : actions) {
    const size_t room =
        longest_variable_name(static_cast<int32_t>(action.scope), typical_prefix_length);
    if (action.name.size() > room) {
      err << "warning: variable " << scope_name(action.scope) << '.' << action.name << " ("
          << action.name.size() << " bytes) does not reach HAProxy with a var-prefix of "
          << typical_prefix_length << " bytes or more: HAProxy drops a full name "
          << "<scope>.<var-prefix>.<name> over 63 bytes\n";
    }
    if (action.type == spop::ActionType::set_var) {
      out << "set-var " << scope_name(action.scope) << '.' << action.name << ' ';
      print_value(out, action.value);
      out << '\n';
    } else {
      out << "unset-var " << scope_name(action.scope) << '.' << action.name << '\n';
    }
  }
  err << "message \"" << message << "\" answered by plugin " << route->instance->name() << ": "
      << actions.size() << " action(s)"
      << (missed_deadline ? " (processing deadline passed before the plugin completed)" : "")
      << (failed ? " (the plugin answered FAILED)" : "") << '\n';
  // A script running --test must see the failure: HAProxy would get no actions.
  return missed_deadline || failed ? 1 : 0;
}

}  // namespace spoa::host
