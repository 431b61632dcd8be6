#pragma once
// Output blocks shared by the connections of one I/O thread. A connection holds a block
// only while it has bytes to write, so an idle connection holds none, and a busy one
// recycles blocks instead of calling malloc per write. Blocks grown past the standard size
// by a burst are freed, not kept: memory goes back once the burst is over.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace spoa::agent {

class BufferPool {
 public:
  // Room for the largest frame (16380 + 4 bytes) several times over: an ACK is encoded in
  // place, so a block must keep a whole max-size frame free at its end.
  static constexpr size_t block_size = 64 * 1024;

  // `keep`: how many free blocks to hold at most (memory that stays after a burst).
  explicit BufferPool(size_t keep = 16) : keep_(keep) {}
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  std::unique_ptr<uint8_t[]> take() {
    if (free_.empty()) return std::make_unique_for_overwrite<uint8_t[]>(block_size);
    auto block = std::move(free_.back());
    free_.pop_back();
    return block;
  }
  // A block of block_size bytes, from take(); dropped when the pool holds enough.
  void give(std::unique_ptr<uint8_t[]> block) {
    if (free_.size() < keep_) free_.push_back(std::move(block));
  }
  size_t free_blocks() const { return free_.size(); }

 private:
  size_t keep_;
  std::vector<std::unique_ptr<uint8_t[]>> free_;
};

}  // namespace spoa::agent
