// A value that readers on every I/O thread use while a loader thread replaces it whole:
// readers take a reference-counted snapshot (never a half-built table), the loader
// publishes a new one, and the old one is freed when its last reader lets go.
//
// A mutex guards only the pointer copy (a few nanoseconds uncontended, never held across a
// lookup). std::atomic<std::shared_ptr> would do the same with the same atomic operations,
// but libstdc++ 12 implements it with a lock bit that ThreadSanitizer does not understand,
// and the suite runs under TSan.
#pragma once

#include <memory>
#include <mutex>

namespace spoa::support {

template <class T>
class Snapshot {
 public:
  Snapshot() = default;
  explicit Snapshot(std::shared_ptr<const T> initial) : current_(std::move(initial)) {}
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;

  // May be empty (nothing published yet).
  std::shared_ptr<const T> get() const noexcept {
    std::lock_guard lock(mutex_);
    return current_;
  }
  void publish(std::shared_ptr<const T> next) noexcept {
    {
      std::lock_guard lock(mutex_);
      current_.swap(next);
    }
    // `next` now holds the old version: freed here, outside the lock, unless a reader
    // still has it.
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const T> current_;
};

}  // namespace spoa::support
