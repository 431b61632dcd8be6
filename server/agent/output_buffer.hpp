#pragma once
// A growable byte buffer whose free tail is handed out uninitialised: encoders write
// straight into it, so queuing an ACK costs no memset of a max-size frame. Its storage is a
// pool block while it fits in one (buffer_pool.hpp), and release() hands it back.
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

#include "agent/buffer_pool.hpp"

namespace spoa::agent {

class OutputBuffer {
 public:
  explicit OutputBuffer(BufferPool& pool) : pool_(&pool) {}
  OutputBuffer(const OutputBuffer&) = delete;
  OutputBuffer& operator=(const OutputBuffer&) = delete;
  ~OutputBuffer() { release(); }

  // A writable span of at least `bytes` after the current end.
  std::span<uint8_t> prepare(size_t bytes) {
    if (capacity_ - size_ < bytes) grow(size_ + bytes);
    return {data_.get() + size_, capacity_ - size_};
  }
  void commit(size_t bytes) { size_ += bytes; }
  void append(std::span<const uint8_t> bytes) {
    auto out = prepare(bytes.size());
    if (!bytes.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
    commit(bytes.size());
  }
  void clear() { size_ = 0; }
  // Empties the buffer and gives its storage back: to the pool if it is a standard block,
  // to the allocator if a burst made it larger.
  void release() {
    size_ = 0;
    if (!data_) return;
    if (capacity_ == BufferPool::block_size) {
      pool_->give(std::move(data_));
    } else {
      data_.reset();
    }
    capacity_ = 0;
  }

  const uint8_t* data() const { return data_.get(); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return capacity_; }

  void swap(OutputBuffer& other) noexcept {
    data_.swap(other.data_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
    std::swap(pool_, other.pool_);
  }

 private:
  void grow(size_t needed) {
    std::unique_ptr<uint8_t[]> data;
    size_t capacity = 0;
    if (capacity_ == 0 && needed <= BufferPool::block_size) {
      data = pool_->take();
      capacity = BufferPool::block_size;
    } else {
      capacity = capacity_ == 0 ? BufferPool::block_size : capacity_;
      while (capacity < needed)
        capacity *= 2;
      data = std::make_unique_for_overwrite<uint8_t[]>(capacity);
    }
    if (size_ != 0) std::memcpy(data.get(), data_.get(), size_);
    release_storage();
    data_ = std::move(data);
    capacity_ = capacity;
  }
  void release_storage() {
    if (data_ && capacity_ == BufferPool::block_size) pool_->give(std::move(data_));
    data_.reset();
  }

  BufferPool* pool_;
  std::unique_ptr<uint8_t[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace spoa::agent
