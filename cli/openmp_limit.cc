// One OpenMP thread per Tesseract, for every run of the ncbocr binary.
//
// ncbocr runs one Tesseract per worker thread, a worker per core. Debian's
// Tesseract is built with OpenMP, and each instance starts its own team of
// threads for every text line; on a small server those teams spin against
// each other and against the workers (measured on the 2-core dev machine:
// one receipt took 3.9 s, most of it in the kernel, against 0.95 s with
// OMP_THREAD_LIMIT=1). libgomp reads OMP_THREAD_LIMIT once, in its own
// initialiser, before main and before this file's constructor; and the limit
// cannot be set through the OpenMP API (Tesseract's num_threads clauses
// override omp_set_num_threads). So when the variable is unset, this
// constructor sets it and re-executes the binary, once, before anything else
// happens: a few milliseconds per run. An OMP_THREAD_LIMIT the user set is
// left alone; if /proc/self/exe cannot be executed, the run goes on as is.
#include <unistd.h>

#include <cstdlib>

namespace {

__attribute__((constructor)) void LimitOpenMpThreads(int argc, char** argv, char** envp) {
  if (std::getenv("OMP_THREAD_LIMIT") != nullptr || argc < 1 || argv == nullptr) return;
  if (setenv("OMP_THREAD_LIMIT", "1", /*overwrite=*/0) != 0) return;
  execv("/proc/self/exe", argv);
  // Still here: exec failed; carry on with Tesseract's own threading.
}

}  // namespace
