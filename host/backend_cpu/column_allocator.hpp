// Internal: the allocator of the CPU backend's columns.
//  * Freed column buffers (>= 64 KiB) go to a process-wide pool keyed by size and are reused;
//    they are never returned to the OS. First touch of fresh memory costs ~3 ms per MiB on the
//    VMs this project runs on (page faults), which was over half of a cold proof; with the pool a
//    prover pays it once, for its peak footprint.
//  * Elements are not zeroed on resize: every column is fully written by the stage creating it.
//    M31 is an implicit-lifetime type (trivial copy, trivial destructor), so leaving the storage
//    as allocated is well-defined once written.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <vector>

namespace ptvm::backend_cpu {

class BufferPool {
 public:
  static BufferPool& instance() {
    static BufferPool* pool = new BufferPool();  // leaked on purpose: outlives static destructors
    return *pool;
  }
  void* take(size_t bytes) {
    if (bytes >= kPooledBytes) {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(bytes);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        return p;
      }
    }
    void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (!p) throw std::bad_alloc();
    return p;
  }
  void give(void* p, size_t bytes) noexcept {
    if (bytes >= kPooledBytes) {
      std::lock_guard<std::mutex> lock(mutex_);
      try {
        free_[bytes].push_back(p);
        return;
      } catch (...) {
      }
    }
    std::free(p);
  }

 private:
  static constexpr size_t kPooledBytes = size_t{64} << 10;
  std::mutex mutex_;
  std::map<size_t, std::vector<void*>> free_;
};

template <class T>
struct ColumnAllocator {
  using value_type = T;

  ColumnAllocator() = default;
  template <class U>
  ColumnAllocator(const ColumnAllocator<U>&) {}

  T* allocate(size_t n) { return static_cast<T*>(BufferPool::instance().take(n * sizeof(T) == 0 ? 1 : n * sizeof(T))); }
  void deallocate(T* p, size_t n) noexcept { BufferPool::instance().give(p, n * sizeof(T) == 0 ? 1 : n * sizeof(T)); }

  // Default construction leaves the element as allocated (see the header comment).
  template <class U>
  void construct(U*) noexcept {}
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }

  template <class U>
  bool operator==(const ColumnAllocator<U>&) const { return true; }
};

template <class T>
using ColumnVector = std::vector<T, ColumnAllocator<T>>;

}  // namespace ptvm::backend_cpu
