#include "allocator.hpp"

#include <dlfcn.h>

namespace spoa::waf {

std::string malloc_provider() {
  // The definition every call resolves to, the first in the lookup order (a preloaded
  // library's before libc's), then the object that holds it.
  void* const symbol = dlsym(RTLD_DEFAULT, "malloc");
  Dl_info info{};
  if (symbol == nullptr || dladdr(symbol, &info) == 0 || info.dli_fname == nullptr) return "";
  const std::string path = info.dli_fname;
  const std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string allocator_report() {
  const std::string provider = malloc_provider();
  if (provider.empty()) return "malloc() from an unknown object";
  std::string line = "malloc() from " + provider;
  if (provider.rfind("libc.so", 0) == 0)
    line +=
        ": inspections cost about a quarter more CPU than with jemalloc, which the "
        "spoa-host-waf package's systemd drop-in preloads (restart the service, not reload, "
        "after installing it)";
  return line;
}

}  // namespace spoa::waf
