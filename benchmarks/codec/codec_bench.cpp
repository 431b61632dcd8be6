// Codec hot paths: decoding a typical NOTIFY and encoding a typical ACK. allocs_per_op
// counts heap allocations inside the timed loop (global operator new is replaced below);
// the steady state must show 0.

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string_view>
#include <vector>

#include "spop/spop.hpp"

namespace {

std::atomic<uint64_t> allocations{0};

void* counted_alloc(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}

void* counted_aligned_alloc(std::size_t size, std::align_val_t align) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  const auto a = static_cast<std::size_t>(align);
  if (void* p = std::aligned_alloc(a, (size + a - 1) / a * a)) return p;
  throw std::bad_alloc();
}

}  // namespace

void* operator new(std::size_t size) {
  return counted_alloc(size);
}
void* operator new[](std::size_t size) {
  return counted_alloc(size);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  try {
    return counted_alloc(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new(std::size_t size, std::align_val_t align) {
  return counted_aligned_alloc(size, align);
}
void* operator new[](std::size_t size, std::align_val_t align) {
  return counted_aligned_alloc(size, align);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  std::free(p);
}

namespace {

using namespace spop;
using namespace std::string_view_literals;

void report_allocations(benchmark::State& state, uint64_t before) {
  state.counters["allocs_per_op"] =
      benchmark::Counter(static_cast<double>(allocations.load(std::memory_order_relaxed) - before),
                         benchmark::Counter::kAvgIterations);
}

// NOTIFY with one message of three args: ip = IPv4, path = STRING, an INT64.
std::vector<uint8_t> typical_notify() {
  std::vector<uint8_t> out(256);
  NotifyWriter w(out, 123456, 1);
  w.add_message("check-request", 3);
  w.add_arg("ip", Value::ipv4("\xc0\xa8\x00\x01"sv));
  w.add_arg("path", Value::string("/some/path/index.html"));
  w.add_arg("size", Value::int64(1234567));
  out.resize(w.finish().size);
  return out;
}

// From the bytes of a whole frame to its messages and args, as the connection does.
void BM_DecodeNotify(benchmark::State& state) {
  const std::vector<uint8_t> frame = typical_notify();
  NotifyDecoder decoder;
  const uint64_t before = allocations.load(std::memory_order_relaxed);
  for (auto _ : state) {
    benchmark::DoNotOptimize(frame.data());
    const FrameResult r = decode_frame(frame, default_max_frame_size);
    if (r.error != Error::none || decoder.decode(r.frame.payload) != Error::none) {
      state.SkipWithError("decode failed");
      break;
    }
    const Message& m = decoder.messages()[0];
    benchmark::DoNotOptimize(decoder.args(m)[2].value.integer);
    benchmark::ClobberMemory();
  }
  report_allocations(state, before);
}
BENCHMARK(BM_DecodeNotify);

// Control for the counter: a decoder per frame pays for its vectors every time, so this
// must report allocations (2 per op) where BM_DecodeNotify reports none.
void BM_DecodeNotifyFreshDecoder(benchmark::State& state) {
  const std::vector<uint8_t> frame = typical_notify();
  const uint64_t before = allocations.load(std::memory_order_relaxed);
  for (auto _ : state) {
    NotifyDecoder decoder;
    const FrameResult r = decode_frame(frame, default_max_frame_size);
    benchmark::DoNotOptimize(decoder.decode(r.frame.payload));
  }
  report_allocations(state, before);
}
BENCHMARK(BM_DecodeNotifyFreshDecoder);

// A whole ACK frame with two SET-VARs, ready to write.
void BM_EncodeAck(benchmark::State& state) {
  std::vector<uint8_t> out(default_max_frame_size + 4);
  uint64_t stream_id = 123456;
  const uint64_t before = allocations.load(std::memory_order_relaxed);
  for (auto _ : state) {
    AckWriter w(out, default_max_frame_size, stream_id, 1);
    w.set_var(Scope::txn, "verdict", Value::string("allow"));
    w.set_var(Scope::txn, "score", Value::uint32(42));
    const EncodeResult r = w.finish();
    benchmark::DoNotOptimize(r.size);
    benchmark::ClobberMemory();
  }
  report_allocations(state, before);
}
BENCHMARK(BM_EncodeAck);

}  // namespace

BENCHMARK_MAIN();
