// Fuzz target: configuration loading (config.cc) from YAML text: yaml-cpp's
// parser, the schema walk (unknown keys, wrong types), path resolution and
// validation. LoadConfig reads a file, so each input is written to one
// temporary file first. No environment variables are consulted.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "fuzz_support.h"
#include "ncbocr/config.h"

namespace {

std::optional<std::string> NoEnv(const char*) { return std::nullopt; }

const std::string& ConfigPath() {
  // On the heap and never freed, so the exit handler can still use it.
  static const std::string& path = *new std::string([] {
    const char* tmp = std::getenv("TMPDIR");
    auto p = std::filesystem::path(tmp && *tmp ? tmp : "/tmp") /
             ("ncbocr-fuzz-config-" + std::to_string(::getpid()) + ".yaml");
    return p.string();
  }());
  static const bool cleanup = std::atexit([] { std::filesystem::remove(path); }) == 0;
  (void)cleanup;
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ncbocr;
  {
    std::ofstream out(ConfigPath(), std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  ::chmod(ConfigPath().c_str(), 0600);  // inline secrets are allowed in a 0600 file
  ConfigOverrides overrides;
  (void)LoadConfig(ConfigPath(), overrides, &NoEnv);
  return 0;
}
