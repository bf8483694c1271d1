#pragma once
// Bytes the process has allocated and not freed, counted on every malloc and
// free: what maxmemory compares against (Redis's zmalloc_used_memory) and
// INFO used_memory shows. Asking glibc instead (mallinfo2) walks every free
// chunk of every arena, milliseconds on a fragmented heap: too slow for a
// check before each batch of commands.
//
// The count comes from replacing malloc, free and their relatives (glibc
// supports that; ours forward to __libc_malloc and friends), adding and
// subtracting malloc_usable_size in a slot per thread. Sanitizer builds keep
// their own malloc and ask it for its count.
#include <cstdint>

namespace shrike::util {

// The count: bytes in blocks allocated and not freed.
std::int64_t counted_allocated_bytes();

}  // namespace shrike::util
