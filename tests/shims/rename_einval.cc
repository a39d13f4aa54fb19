// A test seam: makes renameat2(..., RENAME_NOREPLACE) answer EINVAL, as NFS
// and other shared file systems do, so the spool's fallback to rename(2) runs
// on a local disk. Loaded with LD_PRELOAD by tests/cli/concurrency.sh (ctest
// cli_concurrency_shared_fs). Every other call goes to the C library. When
// NCBOCR_SHIM_MARK names a file, the first refused call creates it, so the
// test can tell that the seam was reached.
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

extern "C" int renameat2(int olddirfd, const char* oldpath, int newdirfd, const char* newpath,
                         unsigned int flags) {
  if (flags & RENAME_NOREPLACE) {
    if (const char* mark = getenv("NCBOCR_SHIM_MARK")) {
      int fd = open(mark, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
      if (fd >= 0) close(fd);
    }
    errno = EINVAL;
    return -1;
  }
  using Fn = int (*)(int, const char*, int, const char*, unsigned int);
  static Fn real = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "renameat2"));
  if (!real) {
    errno = ENOSYS;
    return -1;
  }
  return real(olddirfd, oldpath, newdirfd, newpath, flags);
}
