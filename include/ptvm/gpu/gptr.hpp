// gptr<T>: the one pointer type kernels use to touch global (device) memory.
//
// Under nvcc it is a plain pointer in a struct: load/store compile to ordinary loads and stores.
// Under host-sim it also carries the element count, so an out-of-range index is a clear error
// instead of silent corruption, and, while profiling is on, it records every access so that the
// host-sim runtime can count what a GPU profiler would: requests per warp instruction, 32-byte
// sectors per request, bytes moved (see ptvm/gpu/hostsim/profile.hpp).
//
// Kernels say load(i) / store(i, v) explicitly instead of p[i]: a proxy reference would hide which
// accesses touch memory, and the access counter must see each one.
#pragma once
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "ptvm/common/hd.hpp"
#include "ptvm/gpu/namespace.hpp"

#if defined(PTVM_HOSTSIM)
#include <source_location>

namespace ptvm::hostsim {
// Non-null while a host-sim kernel thread with profiling enabled is running on this host thread.
extern thread_local void* tls_access_log;
// site: the source location of the access (one "instruction"): requests are formed from the
// k-th execution of one site by the lanes of a warp, as a GPU issues one request per instruction.
void record_access(const void* address, uint32_t bytes, bool is_store, uint64_t site);
inline uint64_t access_site(const std::source_location& loc) {
  return reinterpret_cast<uintptr_t>(loc.file_name()) * 0x9e3779b97f4a7c15ull ^
         (uint64_t{loc.line()} << 16) ^ loc.column();
}
[[noreturn]] void global_out_of_bounds(const void* base, size_t index, size_t count, bool is_store);
}  // namespace ptvm::hostsim
#endif

PTVM_GPU_NAMESPACE_BEGIN

template <class T>
struct gptr {
  static_assert(std::is_trivially_copyable_v<std::remove_const_t<T>>,
                "device memory holds trivially copyable values only");
  T* ptr = nullptr;
#if defined(PTVM_HOSTSIM)
  size_t count = SIZE_MAX;  // elements reachable from ptr; SIZE_MAX = unknown (no check)
#endif

  PTVM_HD constexpr gptr() = default;
#if defined(PTVM_HOSTSIM)
  constexpr explicit gptr(T* p, size_t n = SIZE_MAX) : ptr(p), count(n) {}
  // gptr<T> converts to gptr<const T>.
  template <class U, class = std::enable_if_t<std::is_same_v<const U, T> && !std::is_same_v<U, T>>>
  constexpr gptr(gptr<U> other) : ptr(other.ptr), count(other.count) {}
#else
  PTVM_HD constexpr explicit gptr(T* p, size_t /*n*/ = SIZE_MAX) : ptr(p) {}
  template <class U, class = std::enable_if_t<std::is_same_v<const U, T> && !std::is_same_v<U, T>>>
  PTVM_HD constexpr gptr(gptr<U> other) : ptr(other.ptr) {}
#endif

#if defined(PTVM_HOSTSIM)
  std::remove_const_t<T> load(size_t i,
                              std::source_location site = std::source_location::current()) const {
    if (i >= count) ::ptvm::hostsim::global_out_of_bounds(ptr, i, count, false);
    if (::ptvm::hostsim::tls_access_log)
      ::ptvm::hostsim::record_access(ptr + i, sizeof(T), false, ::ptvm::hostsim::access_site(site));
    return ptr[i];
  }
  void store(size_t i, const std::remove_const_t<T>& value,
             std::source_location site = std::source_location::current()) const {
    static_assert(!std::is_const_v<T>, "store through a gptr<const T>");
    if (i >= count) ::ptvm::hostsim::global_out_of_bounds(ptr, i, count, true);
    if (::ptvm::hostsim::tls_access_log)
      ::ptvm::hostsim::record_access(ptr + i, sizeof(T), true, ::ptvm::hostsim::access_site(site));
    ptr[i] = value;
  }
#else
  PTVM_HD PTVM_FORCEINLINE std::remove_const_t<T> load(size_t i) const { return ptr[i]; }
  PTVM_HD PTVM_FORCEINLINE void store(size_t i, const std::remove_const_t<T>& value) const {
    static_assert(!std::is_const_v<T>, "store through a gptr<const T>");
    ptr[i] = value;
  }
#endif
  // The address of element i, for atomics (which record their own access). Checks the bound.
  PTVM_HD PTVM_FORCEINLINE T* address(size_t i) const {
#if defined(PTVM_HOSTSIM)
    if (i >= count) ::ptvm::hostsim::global_out_of_bounds(ptr, i, count, true);
#endif
    return ptr + i;
  }
  // The sub-range starting at element offset.
  PTVM_HD PTVM_FORCEINLINE gptr offset(size_t offset_elems) const {
#if defined(PTVM_HOSTSIM)
    if (offset_elems > count) ::ptvm::hostsim::global_out_of_bounds(ptr, offset_elems, count, false);
    return gptr(ptr + offset_elems, count == SIZE_MAX ? SIZE_MAX : count - offset_elems);
#else
    return gptr(ptr + offset_elems);
#endif
  }
  // The same bytes seen as another element type (e.g. u32 words as uint4 for 16-byte accesses).
  template <class U>
  PTVM_HD PTVM_FORCEINLINE gptr<U> as() const {
#if defined(PTVM_HOSTSIM)
    return gptr<U>(reinterpret_cast<U*>(ptr),
                   count == SIZE_MAX ? SIZE_MAX : count * sizeof(T) / sizeof(U));
#else
    return gptr<U>(reinterpret_cast<U*>(ptr));
#endif
  }
  PTVM_HD constexpr T* get() const { return ptr; }
  PTVM_HD explicit constexpr operator bool() const { return ptr != nullptr; }
};

PTVM_GPU_NAMESPACE_END
