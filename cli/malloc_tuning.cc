// Large blocks in their own mappings, for every run of the ncbocr binary.
//
// Pages, preprocessed images and the second recogniser's network buffers
// are blocks of megabytes, allocated and freed for every page. glibc's
// malloc serves a block of 128 KiB or more with mmap, but raises that
// threshold to the size of each such block freed, up to 32 MiB; after the
// first pages almost every buffer then comes from the heap, and a freed
// buffer in the middle of a heap is not given back to the system. The peak
// memory of a worker thus grows with the receipts it has read. Fixing the
// threshold at 128 KiB keeps large blocks in mappings that munmap returns
// at once (measured, bench/RESULTS.md: both engines, 40 receipts, 2
// workers, peak 1229 MB against 1095 MB, the same text and time).
//
// mallopt must run before the workers' threads start; a constructor runs
// before main. A MALLOC_MMAP_THRESHOLD_ the user set is left alone.
#include <malloc.h>

#include <cstdlib>

namespace {

__attribute__((constructor)) void KeepLargeBlocksMapped() {
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") != nullptr) return;
  mallopt(M_MMAP_THRESHOLD, 128 * 1024);
}

}  // namespace
