// Prefetch: asks the CPU to start loading the cache line holding an address, for the batch
// lookups of the match index (match/indicator_index.h LookupBatch) and the walks of feed
// imports in key order (store, feeds).
//
// Why not just __builtin_prefetch: GCC 12 at -O2/-O3 deletes a loop whose only effect is
// __builtin_prefetch calls (a "prefetch every run of this group" pass), since a prefetch has
// no visible effect; on x86-64 this is an `asm volatile` prefetcht0, which it must keep.
// Elsewhere it falls back to __builtin_prefetch. Prefetching never faults, whatever the
// address.
//
// Thread safety: stateless.
#pragma once

namespace iocd {

inline void Prefetch(const void* address) {
#if defined(__x86_64__)
  asm volatile("prefetcht0 (%0)" : : "r"(address));
#else
  __builtin_prefetch(address);
#endif
}

}  // namespace iocd
