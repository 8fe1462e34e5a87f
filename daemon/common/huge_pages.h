// Transparent huge pages for large arrays: a hint, never a requirement.
//
// A feed import or index build fills arrays of hundreds of megabytes and then reads them
// in random order. With 4 KiB pages every first touch is a page fault and nearly every
// random access a TLB miss; asking for 2 MiB pages (madvise MADV_HUGEPAGE) cuts both by
// about 500x where the kernel allows it (/sys/kernel/mm/transparent_hugepage/enabled set
// to "madvise" or "always"). Where it does not, nothing changes.
//
// Two ways in: HugePageAllocator / HugeVector for arrays owned by one component (the match
// index's tables: 2 MiB-aligned, so every page of them qualifies), and ReserveHuge for a
// plain std::vector that crosses an API (feed imports), advising the whole 2 MiB pages of
// its buffer.
//
// Thread safety: stateless; as thread-safe as malloc. Errors: none; a refused hint is
// ignored and the memory is used with ordinary pages.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <new>
#include <vector>

namespace iocd {

// Applies MADV_HUGEPAGE to the whole 2 MiB pages inside [data, data + bytes). Call it
// before the memory is first written. Ranges under 4 MiB are left alone.
void AdviseHugePages(const void* data, size_t bytes);

// v->reserve(n), with the new storage advised as above. Only when *v is empty (nothing
// written yet), so the advice comes before the first touch.
template <typename T>
void ReserveHuge(std::vector<T>* v, size_t n) {
  if (!v->empty() || n <= v->capacity()) return v->reserve(n);
  v->reserve(n);
  AdviseHugePages(v->data(), n * sizeof(T));
}

// A std::allocator stand-in: an allocation of 2 MiB or more is aligned to 2 MiB and
// advised; smaller ones go to operator new, aligned as T asks (a cache-line-aligned T
// stays aligned).
template <typename T>
struct HugePageAllocator {
  using value_type = T;
  static constexpr size_t kHugePage = size_t{2} << 20;

  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT: allocator rebinding

  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kHugePage) return static_cast<T*>(::operator new(bytes, std::align_val_t{alignof(T)}));
    const size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    void* p = std::aligned_alloc(kHugePage, rounded);
    if (p == nullptr) throw std::bad_alloc();
    (void)madvise(p, rounded, MADV_HUGEPAGE);
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) {
    if (n * sizeof(T) < kHugePage) {
      ::operator delete(p, std::align_val_t{alignof(T)});
    } else {
      std::free(p);
    }
  }

  template <typename U>
  bool operator==(const HugePageAllocator<U>&) const { return true; }
};

// A vector whose large buffers are huge-page candidates.
template <typename T>
using HugeVector = std::vector<T, HugePageAllocator<T>>;

}  // namespace iocd
