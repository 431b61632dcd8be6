#pragma once
// A growable byte buffer whose free tail is handed out uninitialised: encoders write
// straight into it, so queuing an ACK costs no memset of a max-size frame.
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

namespace spoa::agent {

class OutputBuffer {
 public:
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
  // Drops the storage when it grew past `keep`, so one burst does not pin memory forever.
  void shrink_to(size_t keep) {
    if (size_ == 0 && capacity_ > keep) {
      data_.reset();
      capacity_ = 0;
    }
  }

  const uint8_t* data() const { return data_.get(); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return capacity_; }

  void swap(OutputBuffer& other) noexcept {
    data_.swap(other.data_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
  }

 private:
  void grow(size_t needed) {
    size_t capacity = capacity_ == 0 ? 4096 : capacity_;
    while (capacity < needed)
      capacity *= 2;
    auto data = std::make_unique_for_overwrite<uint8_t[]>(capacity);
    if (size_ != 0) std::memcpy(data.get(), data_.get(), size_);
    data_ = std::move(data);
    capacity_ = capacity;
  }

  std::unique_ptr<uint8_t[]> data_;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace spoa::agent
