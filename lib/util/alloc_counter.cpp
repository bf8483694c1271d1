#include "util/alloc_counter.hpp"

#include <malloc.h>

#include <atomic>
#include <cerrno>
#include <cstddef>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SHRIKE_COUNT_ALLOCATIONS 0
#else
#define SHRIKE_COUNT_ALLOCATIONS 1
#endif

#if SHRIKE_COUNT_ALLOCATIONS

extern "C" {
void* __libc_malloc(std::size_t size);
void __libc_free(void* p);
void* __libc_calloc(std::size_t n, std::size_t size);
void* __libc_realloc(void* p, std::size_t size);
void* __libc_memalign(std::size_t alignment, std::size_t size);
void* __libc_valloc(std::size_t size);
void* __libc_pvalloc(std::size_t size);
}

namespace {

// One counter per thread (modulo the slot count), each on its own cache line:
// threads never write the same line on the allocation path. A block freed by
// another thread than the one that allocated it makes one slot go up and the
// other down; only the sum means something.
constexpr unsigned slot_count = 64;
struct alignas(64) slot {
  std::atomic<std::int64_t> bytes{0};
};
slot slots[slot_count];
std::atomic<unsigned> next_slot{0};
// Constant-initialized and in the executable: static TLS, which needs no
// allocation to exist (this runs inside malloc).
thread_local int my_slot = -1;

inline void add(void* p, int sign) {
  if (!p) return;
  if (my_slot < 0) my_slot = static_cast<int>(next_slot.fetch_add(1, std::memory_order_relaxed) % slot_count);
  slots[my_slot].bytes.fetch_add(sign * static_cast<std::int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
}

}  // namespace

extern "C" {

void* malloc(std::size_t size) {
  void* p = __libc_malloc(size);
  add(p, 1);
  return p;
}

void free(void* p) {
  add(p, -1);
  __libc_free(p);
}

void* calloc(std::size_t n, std::size_t size) {
  void* p = __libc_calloc(n, size);
  add(p, 1);
  return p;
}

void* realloc(void* p, std::size_t size) {
  const std::int64_t before = p ? static_cast<std::int64_t>(malloc_usable_size(p)) : 0;
  void* q = __libc_realloc(p, size);
  if (q || size == 0) {  // (a failed realloc leaves the block as it was)
    if (my_slot < 0) my_slot = static_cast<int>(next_slot.fetch_add(1, std::memory_order_relaxed) % slot_count);
    const std::int64_t after = q ? static_cast<std::int64_t>(malloc_usable_size(q)) : 0;
    slots[my_slot].bytes.fetch_add(after - before, std::memory_order_relaxed);
  }
  return q;
}

void* memalign(std::size_t alignment, std::size_t size) {
  void* p = __libc_memalign(alignment, size);
  add(p, 1);
  return p;
}

void* aligned_alloc(std::size_t alignment, std::size_t size) { return memalign(alignment, size); }

int posix_memalign(void** out, std::size_t alignment, std::size_t size) {
  if (alignment % sizeof(void*) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
  void* p = memalign(alignment, size);
  if (!p && size != 0) return ENOMEM;
  *out = p;
  return 0;
}

void* valloc(std::size_t size) {
  void* p = __libc_valloc(size);
  add(p, 1);
  return p;
}

void* pvalloc(std::size_t size) {
  void* p = __libc_pvalloc(size);
  add(p, 1);
  return p;
}

}  // extern "C"

#else
// The sanitizer runtimes' count (GCC ships no header declaring it).
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif  // SHRIKE_COUNT_ALLOCATIONS

namespace shrike::util {

std::int64_t counted_allocated_bytes() {
#if SHRIKE_COUNT_ALLOCATIONS
  std::int64_t sum = 0;
  for (const auto& s : slots) sum += s.bytes.load(std::memory_order_relaxed);
  return sum;
#else
  return static_cast<std::int64_t>(__sanitizer_get_current_allocated_bytes());  // the sanitizer's own count
#endif
}

}  // namespace shrike::util
