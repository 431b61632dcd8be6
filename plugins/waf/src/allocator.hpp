// Which library's malloc() this process runs with. ModSecurity with the CRS costs about a
// quarter more CPU per request with glibc's malloc than with jemalloc, and the allocator is
// fixed when the process starts (the spoa-host-waf package preloads jemalloc through a
// systemd drop-in), so the plugin says at start which one it got: a service reloaded
// rather than restarted after the package was installed still runs glibc's.
#pragma once

#include <string>

namespace spoa::waf {

// The file name (no folder) of the object that provides malloc(), e.g. "libjemalloc.so.2"
// or "libc.so.6"; "" if the dynamic linker cannot say.
std::string malloc_provider();

// One line for the log: the provider, and a hint when it is the C library's.
std::string allocator_report();

}  // namespace spoa::waf
