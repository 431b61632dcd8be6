// Request-phase transactions waiting for their response phase, keyed by HAProxy's
// unique-id. Bounded three ways, because a response may never come (the client went
// away, the server timed out, the response message is not configured): entries, bytes and
// age. coraza-spoa's unbounded cache of the same kind grew to 17.9 GB (its issue #40).
// Every entry that leaves without being taken is counted.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace spoa::waf {

struct TableLimits {
  std::size_t max_entries = 10000;
  std::size_t max_bytes = 64u * 1024 * 1024;
  std::chrono::milliseconds ttl{10000};
};

struct TableStats {
  std::uint64_t stored = 0;
  std::uint64_t taken = 0;
  std::uint64_t expired = 0;  // older than the TTL
  std::uint64_t evicted = 0;  // pushed out by the entry or byte bound, or replaced
  std::uint64_t refused = 0;  // larger than max_bytes alone, or max_entries = 0
  std::uint64_t missing = 0;  // take() found nothing (never stored, or gone)
  std::size_t entries = 0;
  std::size_t bytes = 0;
};

// Value: anything with `std::size_t bytes() const`, held by unique_ptr. Values that leave
// the table are destroyed outside its lock (a ModSecurity transaction writes its audit log
// in its destructor).
template <class Value>
class TransactionTable {
 public:
  using Clock = std::chrono::steady_clock;
  using Now = std::function<Clock::time_point()>;

  explicit TransactionTable(TableLimits limits, Now now = &Clock::now)
      : limits_(limits), now_(std::move(now)) {}

  // Stores `value` under `id`, first dropping expired entries and then the oldest ones until
  // it fits. Returns false (and destroys the value) when it could never fit.
  bool put(const std::string& id, std::unique_ptr<Value> value) {
    std::vector<std::unique_ptr<Value>> leaving;
    bool stored = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      const Clock::time_point now = now_();
      expire_locked(now, leaving);
      const std::size_t size = value->bytes();
      if (limits_.max_entries == 0 || size > limits_.max_bytes) {
        ++stats_.refused;
        leaving.push_back(std::move(value));
      } else {
        if (auto it = index_.find(id); it != index_.end()) {
          ++stats_.evicted;
          leaving.push_back(remove_locked(it->second));
        }
        while (!order_.empty() &&
               (order_.size() >= limits_.max_entries || bytes_ + size > limits_.max_bytes)) {
          ++stats_.evicted;
          leaving.push_back(remove_locked(order_.begin()));
        }
        order_.push_back(Entry{id, now + limits_.ttl, size, std::move(value)});
        index_.emplace(id, std::prev(order_.end()));
        bytes_ += size;
        ++stats_.stored;
        stored = true;
      }
    }
    return stored;  // `leaving` is destroyed here, unlocked
  }

  // The value stored under `id`, removed from the table; nullptr when there is none or
  // it is older than the TTL.
  std::unique_ptr<Value> take(std::string_view id) {
    std::vector<std::unique_ptr<Value>> leaving;
    std::unique_ptr<Value> found;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      expire_locked(now_(), leaving);
      if (auto it = index_.find(std::string(id)); it != index_.end()) {
        found = remove_locked(it->second);
        ++stats_.taken;
      } else {
        ++stats_.missing;
      }
    }
    return found;
  }

  // Drops expired entries; the plugin calls it from its workers when idle.
  void expire() {
    std::vector<std::unique_ptr<Value>> leaving;
    std::lock_guard<std::mutex> lock(mutex_);
    expire_locked(now_(), leaving);
  }

  TableStats stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    TableStats s = stats_;
    s.entries = order_.size();
    s.bytes = bytes_;
    return s;
  }

 private:
  struct Entry {
    std::string id;
    Clock::time_point expires;
    std::size_t bytes;
    std::unique_ptr<Value> value;
  };
  using Order = std::list<Entry>;

  std::unique_ptr<Value> remove_locked(typename Order::iterator it) {
    std::unique_ptr<Value> value = std::move(it->value);
    bytes_ -= it->bytes;
    index_.erase(it->id);
    order_.erase(it);
    return value;
  }

  // Every entry has the same TTL, so insertion order is expiry order.
  void expire_locked(Clock::time_point now, std::vector<std::unique_ptr<Value>>& leaving) {
    while (!order_.empty() && order_.front().expires <= now) {
      ++stats_.expired;
      leaving.push_back(remove_locked(order_.begin()));
    }
  }

  TableLimits limits_;
  Now now_;
  mutable std::mutex mutex_;
  Order order_;
  std::unordered_map<std::string, typename Order::iterator> index_;
  std::size_t bytes_ = 0;
  TableStats stats_;
};

}  // namespace spoa::waf
