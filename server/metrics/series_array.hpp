#pragma once
// Per-thread storage for series indexed by a small id (metrics/names.hpp): plugin
// instances, messages. The ids grow as reloads bring new names, so the storage grows in
// chunks that the writer thread allocates the first time it touches one; a chunk is never
// moved or freed before the array, so a reader that found it may keep reading it.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

namespace spoa::metrics {

template <typename Slot, size_t ChunkSlots, size_t MaxChunks>
class SeriesArray {
 public:
  static constexpr size_t capacity = ChunkSlots * MaxChunks;

  SeriesArray() = default;
  ~SeriesArray() {
    for (auto& chunk : chunks_)
      delete chunk.load(std::memory_order_relaxed);
  }
  SeriesArray(const SeriesArray&) = delete;
  SeriesArray& operator=(const SeriesArray&) = delete;

  // Writer thread only. nullptr for an id past the capacity (names.hpp never hands one
  // out) or when the chunk cannot be allocated: that observation is lost, not the frame.
  Slot* writable(uint32_t id) noexcept {
    const size_t index = id / ChunkSlots;
    if (index >= MaxChunks) return nullptr;
    // Only this thread stores the pointer, so its own relaxed load is up to date.
    Chunk* chunk = chunks_[index].load(std::memory_order_relaxed);
    if (chunk == nullptr) {
      chunk = new (std::nothrow) Chunk();
      if (chunk == nullptr) return nullptr;
      // Release: a reader that sees the pointer sees the zeroed slots behind it.
      chunks_[index].store(chunk, std::memory_order_release);
    }
    return &chunk->slots[id % ChunkSlots];
  }

  // Any thread. nullptr when this thread never touched the id's chunk (all zero then).
  const Slot* readable(uint32_t id) const noexcept {
    const size_t index = id / ChunkSlots;
    if (index >= MaxChunks) return nullptr;
    const Chunk* chunk = chunks_[index].load(std::memory_order_acquire);
    return chunk == nullptr ? nullptr : &chunk->slots[id % ChunkSlots];
  }

 private:
  // Aligned so that no other thread's data shares a cache line with the slots.
  struct alignas(64) Chunk {
    std::array<Slot, ChunkSlots> slots{};
  };
  std::array<std::atomic<Chunk*>, MaxChunks> chunks_{};
};

}  // namespace spoa::metrics
