#include "host/plugin_library.hpp"

#include <dlfcn.h>
#include <fmt/format.h>

#include <cstddef>

namespace spoa::host {

namespace {
// The descriptor fields this host reads; a smaller struct_size means a broken plugin.
constexpr size_t descriptor_v1_size =
    offsetof(spoa_plugin_descriptor, shutdown) + sizeof(spoa_shutdown_fn);

std::string dl_error() {
  const char* text = dlerror();
  return text != nullptr ? text : "unknown dlopen error";
}
}  // namespace

std::shared_ptr<PluginLibrary> PluginLibrary::load(const std::string& path, std::string& error) {
  dlerror();
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
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
  const spoa_plugin_descriptor* descriptor = entry();

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
        "{}: plugin built for ABI {}.{}, newer than this host's ABI {}.{}: "
        "upgrade spoa-host or rebuild the plugin against ABI ≤ {}.{}",
        path, descriptor->abi_major, descriptor->abi_minor, SPOA_ABI_MAJOR, SPOA_ABI_MINOR,
        SPOA_ABI_MAJOR, SPOA_ABI_MINOR);
  } else if (descriptor->struct_size < descriptor_v1_size) {
    error = fmt::format("{}: plugin descriptor is {} bytes, expected at least {}", path,
                        descriptor->struct_size, descriptor_v1_size);
  } else if (descriptor->init == nullptr) {
    error = fmt::format("{}: plugin descriptor has no init function", path);
  } else {
    return std::shared_ptr<PluginLibrary>(new PluginLibrary(path, handle, descriptor));
  }
  close();
  return nullptr;
}

PluginLibrary::~PluginLibrary() {
  dlclose(handle_);
}

}  // namespace spoa::host
