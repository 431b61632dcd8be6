#include "mmdb_database.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace spoa::geoip {

namespace {

class Fd {
 public:
  explicit Fd(int fd) noexcept : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }

 private:
  int fd_;
};

std::string errno_text(int error) {
  return std::strerror(error);
}

// Copies `path` into a sealed memfd (see mmdb_database.hpp) and returns it with its size.
std::pair<std::unique_ptr<Fd>, std::uint64_t> copy_to_memfd(const std::string& path) {
  Fd source(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (source.get() < 0) throw DatabaseError(path + ": " + errno_text(errno));
  struct stat st {};
  if (::fstat(source.get(), &st) != 0) throw DatabaseError(path + ": " + errno_text(errno));
  if (!S_ISREG(st.st_mode)) throw DatabaseError(path + ": not a regular file");
  auto copy =
      std::make_unique<Fd>(::memfd_create("spoa-geoip-db", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (copy->get() < 0) throw DatabaseError(path + ": memfd_create: " + errno_text(errno));
  std::uint64_t total = 0;
  char buffer[1 << 16];
  while (true) {
    const ssize_t n = ::read(source.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw DatabaseError(path + ": read: " + errno_text(errno));
    }
    if (n == 0) break;
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(copy->get(), buffer + done, static_cast<std::size_t>(n - done));
      if (w < 0) {
        if (errno == EINTR) continue;
        throw DatabaseError(path + ": copying into memory: " + errno_text(errno));
      }
      done += w;
    }
    total += static_cast<std::uint64_t>(n);
  }
  // The copy can never shrink under the mapping (no SIGBUS). F_SEAL_WRITE is left out: before
  // Linux 6.7 it also refused the read-only shared mapping libmaxminddb makes.
  ::fcntl(copy->get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW);
  return {std::move(copy), total};
}

}  // namespace

std::shared_ptr<const Database> Database::open(const std::string& path, LoadMode mode) {
  std::shared_ptr<Database> db(new Database());
  db->path_ = path;
  int status = MMDB_SUCCESS;
  if (mode == LoadMode::copy) {
    auto [copy, size] = copy_to_memfd(path);
    db->file_size_ = size;
    // libmaxminddb opens by name; /proc/self/fd/N reopens the memfd, and its mapping keeps
    // the memory alive once `copy` is closed below.
    const std::string by_fd = "/proc/self/fd/" + std::to_string(copy->get());
    status = MMDB_open(by_fd.c_str(), MMDB_MODE_MMAP, &db->mmdb_);
  } else {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) db->file_size_ = static_cast<std::uint64_t>(st.st_size);
    status = MMDB_open(path.c_str(), MMDB_MODE_MMAP, &db->mmdb_);
  }
  if (status != MMDB_SUCCESS) {
    std::string reason = MMDB_strerror(status);
    if (status == MMDB_IO_ERROR || status == MMDB_FILE_OPEN_ERROR)
      reason += std::string(" (") + errno_text(errno) + ")";
    throw DatabaseError(path + ": " + reason);
  }
  db->opened_ = true;
  return db;
}

Database::~Database() {
  if (opened_) MMDB_close(&mmdb_);
}

LookupResult Database::lookup(const IpAddress& address) const noexcept {
  LookupResult result;
  sockaddr_storage storage{};
  if (address.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
    sin->sin_family = AF_INET;
    std::memcpy(&sin->sin_addr, address.bytes(), 4);
  } else {
    if (mmdb_.metadata.ip_version == 4) return result;  // not_found: no IPv6 in this tree
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
    sin6->sin6_family = AF_INET6;
    std::memcpy(&sin6->sin6_addr, address.bytes(), 16);
  }
  int error = MMDB_SUCCESS;
  const MMDB_lookup_result_s r =
      MMDB_lookup_sockaddr(&mmdb_, reinterpret_cast<const sockaddr*>(&storage), &error);
  if (error != MMDB_SUCCESS) {
    result.status = LookupResult::Status::error;
    result.mmdb_error = error;
    return result;
  }
  unsigned prefix = r.netmask;
  if (address.is_v4() && mmdb_.metadata.ip_version == 6) prefix = prefix >= 96 ? prefix - 96 : 0;
  result.prefix_length = prefix;
  if (r.found_entry) {
    result.status = LookupResult::Status::found;
    result.entry = r.entry;
  }
  return result;
}

}  // namespace spoa::geoip
