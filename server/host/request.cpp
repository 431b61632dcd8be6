#include "host/request.hpp"

namespace spoa::host {

namespace {
// x86-64 and AArch64 user-space addresses fit in 48 bits; the top 16 carry the generation.
constexpr int generation_shift = 48;
constexpr uintptr_t address_mask = (uintptr_t{1} << generation_shift) - 1;
static_assert(sizeof(uintptr_t) == 8, "request handles need 64-bit pointers");
}  // namespace

spoa_request* Request::handle() const {
  const auto address = reinterpret_cast<uintptr_t>(this);
  const auto tag = static_cast<uintptr_t>(generation()) << generation_shift;
  return reinterpret_cast<spoa_request*>(address | tag);
}

Request* Request::from_handle(spoa_request* handle, uint16_t& generation) {
  const auto value = reinterpret_cast<uintptr_t>(handle);
  generation = static_cast<uint16_t>(value >> generation_shift);
  return reinterpret_cast<Request*>(value & address_mask);
}

bool Request::mark_pending() {
  uint32_t expected = state_.load(std::memory_order_acquire);
  if (unpack_phase(expected) != Phase::running) return false;
  return state_.compare_exchange_strong(expected, pack(unpack_generation(expected), Phase::pending),
                                        std::memory_order_acq_rel);
}

bool Request::try_complete(uint16_t generation, int32_t result) {
  const Phase target = result == SPOA_DONE ? Phase::done : Phase::failed;
  uint32_t expected = state_.load(std::memory_order_acquire);
  for (;;) {
    const Phase phase = unpack_phase(expected);
    if (unpack_generation(expected) != generation) return false;
    if (phase != Phase::running && phase != Phase::pending) return false;
    if (state_.compare_exchange_weak(expected, pack(generation, target),
                                     std::memory_order_acq_rel)) {
      return true;
    }
  }
}

bool Request::accepts_actions(uint16_t generation) const {
  const uint32_t state = state_.load(std::memory_order_acquire);
  const Phase phase = unpack_phase(state);
  return unpack_generation(state) == generation &&
         (phase == Phase::running || phase == Phase::pending);
}

Request* RequestPool::acquire() {
  Request* request;
  if (free_.empty()) {
    all_.push_back(std::unique_ptr<Request>(new Request(*this, home_)));
    request = all_.back().get();
  } else {
    request = free_.back();
    free_.pop_back();
  }
  const uint32_t state = request->state_.load(std::memory_order_relaxed);
  request->state_.store(Request::pack(Request::unpack_generation(state), Phase::running),
                        std::memory_order_release);
  return request;
}

void RequestPool::release(Request* request) {
  const uint32_t state = request->state_.load(std::memory_order_relaxed);
  // A new generation makes every handle of the finished call stale.
  const auto next = static_cast<uint16_t>(Request::unpack_generation(state) + 1);
  request->state_.store(Request::pack(next, Phase::idle), std::memory_order_release);
  request->instance = nullptr;
  request->sink = nullptr;
  request->call = nullptr;
  request->actions.clear();
  request->set_vars = request->unset_vars = 0;
  free_.push_back(request);
}

}  // namespace spoa::host
