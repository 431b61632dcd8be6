#include "host/plugin_library.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <vector>

#include "host/legacy_abi.hpp"
#include "log/log.hpp"

namespace spoa::host {

namespace {
// The descriptor fields every 1.x plugin has; a smaller struct_size means a broken plugin.
constexpr size_t descriptor_v1_size = descriptor_1_0_size;

std::string dl_error() {
  const char* text = dlerror();
  return text != nullptr ? text : "unknown dlopen error";
}

// Every library loaded and still referenced by some generation, by path: several at once
// while a reload runs a replaced file beside the old one.
std::mutex loaded_mutex;
std::map<std::string, std::vector<std::weak_ptr<PluginLibrary>>>& loaded() {
  static std::map<std::string, std::vector<std::weak_ptr<PluginLibrary>>> libraries;
  return libraries;
}

// True if the dynamic loader already has an object under this name: dlopen(path) would
// return it whatever is on disk now, since glibc matches loaded objects by name first.
bool loader_has(const std::string& path) {
  void* handle = dlopen(path.c_str(), RTLD_LAZY | RTLD_LOCAL | RTLD_NOLOAD);
  if (handle == nullptr) return false;
  dlclose(handle);  // RTLD_NOLOAD still took a reference
  return true;
}

// A sealed in-memory copy of `path`: dlopen through /proc/self/fd sees a new inode, so the
// loader cannot confuse it with the image already mapped from `path`.
int copy_to_memfd(const std::string& path, std::string& error) {
  const int source = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (source < 0) {
    error = fmt::format("{}: cannot open: {}", path, std::strerror(errno));
    return -1;
  }
  const int copy = memfd_create("spoa-plugin", MFD_CLOEXEC);
  if (copy < 0) {
    error = fmt::format("{}: memfd_create: {}", path, std::strerror(errno));
    ::close(source);
    return -1;
  }
  for (;;) {
    const ssize_t n = sendfile(copy, source, nullptr, 1 << 20);
    if (n == 0) break;
    if (n < 0) {
      error = fmt::format("{}: cannot copy for loading: {}", path, std::strerror(errno));
      ::close(source);
      ::close(copy);
      return -1;
    }
  }
  ::close(source);
  return copy;
}
}  // namespace

std::shared_ptr<PluginLibrary> PluginLibrary::load(const std::string& path, std::string& error) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    error = fmt::format("{}: cannot load plugin: {}", path, std::strerror(errno));
    return nullptr;
  }
  const FileIdentity identity{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino),
                              static_cast<uint64_t>(st.st_size),
                              st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec};
  std::lock_guard lock(loaded_mutex);
  auto& libraries = loaded()[path];
  std::erase_if(libraries, [](const auto& library) { return library.expired(); });
  for (const auto& weak : libraries) {
    if (auto existing = weak.lock(); existing && existing->identity_ == identity) return existing;
  }
  std::shared_ptr<PluginLibrary> library;
  if (loader_has(path)) {
    // An older image of this path is still mapped (a generation still running, or one
    // that failed to start after loading it): load the file on disk from a copy.
    std::string copy_error;
    const int copy = copy_to_memfd(path, copy_error);
    if (copy < 0) {
      error = copy_error;
      return nullptr;
    }
    log::info(
        "{}: file changed on disk since it was loaded; loading the new file beside the "
        "old one",
        path);
    library = open(path, fmt::format("/proc/self/fd/{}", copy), identity, error);
    ::close(copy);  // the mapping keeps the memory alive
  } else {
    library = open(path, path, identity, error);
  }
  if (library) libraries.push_back(library);
  return library;
}

std::shared_ptr<PluginLibrary> PluginLibrary::open(const std::string& path,
                                                   const std::string& dlopen_path,
                                                   FileIdentity identity, std::string& error) {
  dlerror();
  void* handle = dlopen(dlopen_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    error = fmt::format("{}: cannot load plugin: {}", path, dl_error());
    return nullptr;
  }
  auto close = [handle] { dlclose(handle); };

  dlerror();
  void* symbol = dlsym(handle, SPOA_PLUGIN_ENTRY_SYMBOL);
  if (symbol == nullptr) {
    error = fmt::format(
        "{}: not a spoa-host plugin: no entry symbol {} (a plugin built for ABI major {} "
        "exports it; is this file built against spoa/plugin.h?)",
        path, SPOA_PLUGIN_ENTRY_SYMBOL, SPOA_ABI_MAJOR);
    close();
    return nullptr;
  }
  // POSIX guarantees that a data pointer from dlsym converts to a function pointer.
  spoa_plugin_entry_fn entry;
  static_assert(sizeof(entry) == sizeof(symbol));
  __builtin_memcpy(&entry, &symbol, sizeof(entry));
  // Guarded like every call into a plugin: a C++ entry function may throw.
  const spoa_plugin_descriptor* descriptor = nullptr;
  try {
    descriptor = entry();
  } catch (const std::exception& e) {
    error =
        fmt::format("{}: {} threw through the C ABI: {}", path, SPOA_PLUGIN_ENTRY_SYMBOL, e.what());
    close();
    return nullptr;
  } catch (...) {
    error = fmt::format("{}: {} threw through the C ABI", path, SPOA_PLUGIN_ENTRY_SYMBOL);
    close();
    return nullptr;
  }

  if (descriptor == nullptr) {
    error = fmt::format("{}: {} returned no descriptor", path, SPOA_PLUGIN_ENTRY_SYMBOL);
  } else if (descriptor->abi_major != SPOA_ABI_MAJOR) {
    error = fmt::format(
        "{}: plugin built for ABI {}.{}, this host needs ABI major {} "
        "(host ABI {}.{}): rebuild the plugin against this spoa-host's SDK",
        path, descriptor->abi_major, descriptor->abi_minor, SPOA_ABI_MAJOR, SPOA_ABI_MAJOR,
        SPOA_ABI_MINOR);
  } else if (descriptor->abi_minor > SPOA_ABI_MINOR) {
    error = fmt::format(
        "{}: plugin requires ABI {}.{}, newer than this host's ABI {}.{}: "
        "upgrade spoa-host, or build the plugin to require ABI ≤ {}.{} (its descriptor's "
        "abi_minor; see sdk/README.md, \"Versions\")",
        path, descriptor->abi_major, descriptor->abi_minor, SPOA_ABI_MAJOR, SPOA_ABI_MINOR,
        SPOA_ABI_MAJOR, SPOA_ABI_MINOR);
  } else if (descriptor->struct_size < descriptor_v1_size) {
    error = fmt::format("{}: plugin descriptor is {} bytes, expected at least {}", path,
                        descriptor->struct_size, descriptor_v1_size);
  } else if (descriptor->init == nullptr) {
    error = fmt::format("{}: plugin descriptor has no init function", path);
  } else {
    return std::shared_ptr<PluginLibrary>(new PluginLibrary(path, identity, handle, descriptor));
  }
  close();
  return nullptr;
}

bool PluginLibrary::built_with_1_0() const {
  return descriptor_->struct_size < sizeof(spoa_plugin_descriptor);
}

PluginLibrary::~PluginLibrary() {
  dlclose(handle_);
}

}  // namespace spoa::host
