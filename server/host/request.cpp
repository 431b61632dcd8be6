#include "host/request.hpp"

#include <map>
#include <thread>
#include <utility>

#include "host/dispatcher.hpp"
#include "host/execution_pool.hpp"

namespace spoa::host {

namespace detail {
std::array<std::atomic<Request*>, max_chunks> request_chunks{};
}  // namespace detail

namespace {

std::mutex route_names_mutex;
std::map<std::pair<std::string, std::string>, std::unique_ptr<RouteName>, std::less<>>&
route_names() {
  static std::map<std::pair<std::string, std::string>, std::unique_ptr<RouteName>, std::less<>>
      names;
  return names;
}

}  // namespace

const RouteName* intern_route_name(std::string_view plugin, std::string_view message) {
  std::lock_guard lock(route_names_mutex);
  auto& names = route_names();
  auto key = std::make_pair(std::string(plugin), std::string(message));
  auto it = names.find(key);
  if (it == names.end()) {
    auto name = std::make_unique<RouteName>(RouteName{key.first, key.second});
    it = names.emplace(std::move(key), std::move(name)).first;
  }
  return it->second.get();
}

// Hands out slots of detail::request_chunks, allocating chunks as needed.
class RequestTable {
 public:
  static RequestTable& instance() {
    static RequestTable table;
    return table;
  }

  Request* allocate(RequestPool& pool) {
    std::lock_guard lock(mutex_);
    if (next_ == detail::table_capacity) return nullptr;
    const uint32_t slot = next_++;
    const uint32_t chunk = slot >> detail::chunk_bits;
    Request* base = detail::request_chunks[chunk].load(std::memory_order_relaxed);
    if (base == nullptr) {
      storage_.push_back(std::make_unique<Request[]>(detail::chunk_size));
      base = storage_.back().get();
      detail::request_chunks[chunk].store(base, std::memory_order_release);
    }
    Request& request = base[slot & (detail::chunk_size - 1)];
    request.slot_ = slot;
    request.pool_.store(&pool, std::memory_order_release);
    return &request;
  }

 private:
  std::mutex mutex_;
  uint32_t next_ = 0;
  std::vector<std::unique_ptr<Request[]>> storage_;
};

Request::Request() = default;
Request::~Request() = default;

const RouteName* Request::name_of(uint64_t generation) const {
  const uint64_t first = word_.load(std::memory_order_acquire) >> 20;
  if (first != generation && first != ((generation + 1) & generation_mask)) return nullptr;
  const RouteName* remembered = names_[generation & 1].load(std::memory_order_relaxed);
  // Pairs with the release fence in RequestPool::acquire(): if the name read was written
  // for a later generation, the word read next shows that generation.
  std::atomic_thread_fence(std::memory_order_acquire);
  const uint64_t second = word_.load(std::memory_order_relaxed) >> 20;
  return second == first ? remembered : nullptr;
}

template <class F>
bool Request::transition(State& before, State& after, F&& next) {
  uint64_t word = word_.load(std::memory_order_acquire);
  for (unsigned spins = 0;; ++spins) {
    if ((word & writer_bit) != 0) {
      // Another thread is appending an action: a handful of stores.
      if (spins > 64) std::this_thread::yield();
      word = word_.load(std::memory_order_acquire);
      continue;
    }
    before = State{word};
    uint64_t target = 0;
    if (!next(before, target)) {
      after = before;
      return false;
    }
    if (word_.compare_exchange_weak(word, target, std::memory_order_acq_rel,
                                    std::memory_order_acquire)) {
      after = State{target};
      return true;
    }
  }
}

Request::State Request::handler_returned_slow(int32_t result) {
  State before{}, after{};
  transition(before, after, [&](State s, uint64_t& target) {
    uint64_t flags = returned_bit | (result == SPOA_PENDING ? returned_pending_bit : 0);
    switch (s.phase()) {
      case Phase::running: {
        const Phase phase = result == SPOA_PENDING ? Phase::pending
                            : result == SPOA_DONE  ? Phase::done
                                                   : Phase::failed;
        target = with_phase(s.word | flags, phase);
        return true;
      }
      case Phase::done:  // complete() came first, from another thread
      case Phase::failed:
      case Phase::abandoned:  // a pool handler the host gave up on
        target = s.word | flags;
        return true;
      default:
        return false;
    }
  });
  return after;
}

bool Request::try_complete(uint64_t generation, int32_t result, State& before) {
  State after{};
  return transition(before, after, [&](State s, uint64_t& target) {
    if (s.generation() != generation) return false;
    if (s.phase() != Phase::running && s.phase() != Phase::pending) return false;
    target = with_phase(s.word | completed_bit, result == SPOA_DONE ? Phase::done : Phase::failed);
    return true;
  });
}

bool Request::complete_abandoned(uint64_t generation, State& after) {
  State before{};
  return transition(before, after, [&](State s, uint64_t& target) {
    if (s.generation() != generation || s.phase() != Phase::abandoned || s.completed()) {
      return false;
    }
    // Only a plugin that returned PENDING (or has not returned yet) owes a complete().
    if (s.returned() && !s.returned_pending()) return false;
    target = s.word | completed_bit;
    return true;
  });
}

Request::State Request::abandon() {
  State before{}, after{};
  const bool changed = transition(before, after, [&](State s, uint64_t& target) {
    switch (s.phase()) {
      case Phase::running:
      case Phase::pending:
        target = with_phase(s.word | host_done_bit, Phase::abandoned);
        return true;
      case Phase::done:
      case Phase::failed:
        if (s.host_done()) return false;
        target = s.word | host_done_bit;
        return true;
      default:
        return false;
    }
  });
  if (changed && after.phase() == Phase::abandoned && after.has_callback()) {
    if (auto* callback = abandon_callback_.load(std::memory_order_acquire)) {
      callback(abandon_user_.load(std::memory_order_acquire), handle_of(slot_, after.generation()));
    }
  }
  return after;
}

Request::State Request::finish_host_side() {
  State before{}, after{};
  transition(before, after, [&](State s, uint64_t& target) {
    target = s.word | host_done_bit;
    return true;
  });
  return after;
}

bool Request::begin_write_locked(uint64_t generation, State& refused) {
  State after{};
  return transition(refused, after, [&](State s, uint64_t& target) {
    if (s.generation() != generation) return false;
    if (s.phase() != Phase::running && s.phase() != Phase::pending) return false;
    target = s.word | writer_bit;
    return true;
  });
}

bool Request::set_abandon_callback(uint64_t generation, void (*callback)(void*, spoa_request*),
                                   void* user, State& refused) {
  State after{};
  const bool locked = transition(refused, after, [&](State s, uint64_t& target) {
    if (s.generation() != generation) return false;
    if (s.phase() != Phase::running && s.phase() != Phase::pending) return false;
    target = s.word | writer_bit;
    return true;
  });
  if (!locked) return false;
  abandon_callback_.store(callback, std::memory_order_relaxed);
  abandon_user_.store(user, std::memory_order_relaxed);
  word_.fetch_or(callback_bit, std::memory_order_relaxed);
  word_.fetch_and(~writer_bit, std::memory_order_release);
  return true;
}

RequestPool::~RequestPool() {
  // The pool's thread is ending; its requests stay in the table. Make every handle to
  // them stale, so that a plugin breaking the shutdown contract gets NOT_ALLOWED instead of
  // posting to a thread that is gone.
  for (Request* request : all_) {
    const uint64_t next = (request->generation() + 1) & Request::generation_mask;
    request->word_.store(Request::pack(next, Phase::idle, 0), std::memory_order_release);
    request->pool_.store(nullptr, std::memory_order_release);
  }
}

void Request::trim_job() {
  // A pool call copies its arguments (a WAF body may be tens of KiB): not kept past a burst.
  if (job->bytes.capacity() > kept_action_capacity) std::vector<uint8_t>().swap(job->bytes);
  if (job->legacy_args.capacity() > kept_action_capacity) {
    std::vector<uint8_t>().swap(job->legacy_args);
  }
}

Request* RequestPool::allocate() {
  Request* request = RequestTable::instance().allocate(*this);
  if (request == nullptr) return nullptr;
  all_.push_back(request);
  ++owned_;
  return request;
}

void RequestPool::grow_ring() {
  // Doubling (a power of two), unrolled so the oldest free request stays first.
  std::vector<Request*> grown;
  const size_t capacity = free_.empty() ? 16 : free_.size() * 2;
  grown.reserve(capacity);
  for (size_t i = 0; i < free_count_; ++i)
    grown.push_back(free_[(head_ + i) & (free_.size() - 1)]);
  grown.resize(capacity, nullptr);
  free_ = std::move(grown);
  head_ = 0;
}

void deliver(Request& request, uint64_t generation) {
  const Request::State s = request.state();
  if (s.generation() != generation || s.phase() == Phase::idle) return;  // released meanwhile
  if (s.host_done()) {
    if (s.plugin_done()) request.pool().release(request);
    return;
  }
  if ((s.phase() == Phase::done || s.phase() == Phase::failed) && s.returned() &&
      !request.delivered && request.call != nullptr) {
    request.delivered = true;
    NotifyCall& call = *request.call;
    call.sink->request_completed(call, request);
  }
}

}  // namespace spoa::host
