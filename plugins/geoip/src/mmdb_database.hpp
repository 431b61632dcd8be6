// One opened MaxMind DB file: libmaxminddb's MMDB_s with RAII, the lookup of an address,
// and the file's identity (to notice a replacement).
//
// Load modes:
//  * copy (default): the file is read into a sealed memfd and libmaxminddb maps that, so
//    the loaded version is immutable whatever happens to the file afterwards. Rewriting a
//    mapped file in place (`cp new.mmdb db.mmdb` truncates it first) would otherwise make
//    the next lookup read beyond the end of the file: SIGBUS, the whole daemon gone.
//  * mmap: libmaxminddb maps the file itself, sharing the page cache. Only safe if the file
//    is always replaced by rename(2), as geoipupdate does.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include <maxminddb.h>

#include "spoa/support/ip_address.hpp"

namespace spoa::geoip {

// The address type of all bundled plugins (plugins/support): IPv4-mapped IPv6 is folded
// to IPv4 when the address is made.
using support::IpAddress;

enum class LoadMode { copy, mmap };

// Why a database could not be opened: names the file and libmaxminddb's reason.
class DatabaseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct LookupResult {
  enum class Status { found, not_found, error };
  Status status = Status::not_found;
  MMDB_entry_s entry{};
  // Bits of the matched network (or of the covering empty network when not found), in
  // the family of the address looked up: a /24 is 24 for an IPv4 address even in an IPv6
  // database, where libmaxminddb counts the 96 bits of the IPv4 subtree's position too.
  unsigned prefix_length = 0;
  int mmdb_error = MMDB_SUCCESS;
};

class Database {
 public:
  // Throws DatabaseError.
  static std::shared_ptr<const Database> open(const std::string& path, LoadMode mode);

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Thread-safe (libmaxminddb lookups only read). An IPv6 address in an IPv4-only
  // database is not_found.
  LookupResult lookup(const IpAddress& address) const noexcept;

  const MMDB_s& mmdb() const noexcept { return mmdb_; }
  const std::string& path() const noexcept { return path_; }
  std::uint64_t file_size() const noexcept { return file_size_; }

 private:
  Database() = default;

  MMDB_s mmdb_{};
  bool opened_ = false;
  std::string path_;
  std::uint64_t file_size_ = 0;
};

}  // namespace spoa::geoip
