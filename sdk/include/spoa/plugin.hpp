/*
 * spoa-host plugin SDK: a header-only C++ wrapper over the C ABI in spoa/plugin.h.
 *
 *   #include <spoa/plugin.hpp>
 *
 *   class Greeter {
 *    public:
 *     explicit Greeter(spoa::InitContext& ctx) {
 *       ctx.config().reject_unknown({"greeting"});
 *       greeting_ = std::string(ctx.config().get_or("greeting", "hello"));
 *       // Every message the spoa-host config maps to this instance ([plugins.NAME]
 *       // messages); ctx.on("greet", ...) claims a single one.
 *       ctx.on_each_claimed(this, &Greeter::greet);
 *     }
 *     spoa::Result greet(const spoa::Message& msg, spoa::Reply& reply) const {
 *       reply.set(spoa::Scope::txn, "greeting", greeting_);
 *       return spoa::Result::done;
 *     }
 *    private:
 *     std::string greeting_;
 *   };
 *   SPOA_PLUGIN(Greeter, "greeter", "1.0.0")
 *
 * What the wrapper guarantees:
 *  - Enums are typed on this side (spoa::Scope, Result, Status, LogLevel) and converted to
 *    the int32_t of plugin.h at the boundary.
 *  - No exception crosses into C. A handler that throws answers SPOA_FAILED and logs the
 *    exception's type and what(); a constructor that throws fails init() with what() as the
 *    reason.
 *  - One plugin object per [plugins.NAME] instance, constructed in init() and destroyed in
 *    shutdown(): join your threads and finish your PendingRequests in the destructor.
 *  - A PendingRequest that is destroyed without complete() answers SPOA_FAILED, so a
 *    forgotten request costs one failed message, not HAProxy's whole processing timeout.
 *
 * What it does not change (see plugin.h): handlers run concurrently on every I/O thread and
 * must not block; message arguments are views valid only during the handler call (copy
 * into OwnedValue or std::string what you keep); the config is valid only during the
 * constructor.
 *
 * Needs C++17 or later. Uses exceptions and RTTI only at the boundary.
 */
#ifndef SPOA_PLUGIN_HPP
#define SPOA_PLUGIN_HPP

#include <spoa/plugin.h>

#if __cplusplus < 201703L
#error "spoa/plugin.hpp needs C++17 or later"
#endif

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#if defined(__has_include)
#if __has_include(<cxxabi.h>)
#include <cxxabi.h>
#define SPOA_PLUGIN_HPP_DEMANGLE 1
#endif
#endif

namespace spoa {

/* ------------------------------------------------------------------------------------ */
/* Enumerations mirroring plugin.h                                                        */
/* ------------------------------------------------------------------------------------ */

/* plugin.h carries every enum as an int32_t; these scoped enums have that as their fixed
 * underlying type, so any value the host hands back converts without undefined behaviour
 * (to_string() answers "invalid-..." for one that names no enumerator). */
enum class Scope : std::int32_t {
  proc = SPOA_SCOPE_PROC,
  sess = SPOA_SCOPE_SESS,
  txn = SPOA_SCOPE_TXN,
  req = SPOA_SCOPE_REQ,
  res = SPOA_SCOPE_RES
};

enum class Type : std::uint32_t {
  null = SPOA_TYPE_NULL,
  boolean = SPOA_TYPE_BOOL,
  int32 = SPOA_TYPE_INT32,
  uint32 = SPOA_TYPE_UINT32,
  int64 = SPOA_TYPE_INT64,
  uint64 = SPOA_TYPE_UINT64,
  ipv4 = SPOA_TYPE_IPV4,
  ipv6 = SPOA_TYPE_IPV6,
  string = SPOA_TYPE_STRING,
  binary = SPOA_TYPE_BINARY
};

enum class Result : std::int32_t { done = SPOA_DONE, failed = SPOA_FAILED, pending = SPOA_PENDING };

enum class Status : std::int32_t {
  ok = SPOA_OK,
  invalid_argument = SPOA_ERR_INVALID_ARGUMENT,
  bad_name = SPOA_ERR_BAD_NAME,
  too_big = SPOA_ERR_TOO_BIG,
  not_allowed = SPOA_ERR_NOT_ALLOWED,
  duplicate = SPOA_ERR_DUPLICATE,
  not_claimed = SPOA_ERR_NOT_CLAIMED,
  host_failure = SPOA_ERR_HOST_FAILURE,
  /* Never sent by a host: the wrapper answers it when the host's table is older than the
   * entry a call needs (its struct_size does not cover it). */
  unsupported = 1000
};

enum class LogLevel : std::int32_t {
  trace = SPOA_LOG_TRACE,
  debug = SPOA_LOG_DEBUG,
  info = SPOA_LOG_INFO,
  warn = SPOA_LOG_WARN,
  error = SPOA_LOG_ERROR
};

namespace detail {
/* True when the host's table is long enough to hold the entry at `offset` of `size`
 * bytes and the entry is set: how a plugin uses a newer minor's entries on an older host. */
inline bool host_has(const spoa_host_api* host, std::size_t offset, std::size_t size) noexcept {
  return host != nullptr && host->struct_size >= offset + size;
}
#define SPOA_HOST_HAS(host, entry)                                                            \
  (::spoa::detail::host_has((host), offsetof(spoa_host_api, entry), sizeof((host)->entry)) && \
   (host)->entry != nullptr)

/* The boundary: typed enums on this side, int32_t across plugin.h. */
template <class E>
constexpr std::int32_t to_abi(E value) noexcept {
  static_assert(std::is_same_v<std::underlying_type_t<E>, std::int32_t>);
  return static_cast<std::int32_t>(value);
}
/* A status code from the host: any int32_t is a valid Status (fixed underlying type). */
constexpr Status to_status(std::int32_t code) noexcept {
  return static_cast<Status>(code);
}
}  // namespace detail

constexpr std::string_view to_string(Scope scope) noexcept {
  switch (scope) {
    case Scope::proc:
      return "proc";
    case Scope::sess:
      return "sess";
    case Scope::txn:
      return "txn";
    case Scope::req:
      return "req";
    case Scope::res:
      return "res";
  }
  return "invalid-scope";
}

constexpr std::string_view to_string(Type type) noexcept {
  switch (type) {
    case Type::null:
      return "null";
    case Type::boolean:
      return "bool";
    case Type::int32:
      return "int32";
    case Type::uint32:
      return "uint32";
    case Type::int64:
      return "int64";
    case Type::uint64:
      return "uint64";
    case Type::ipv4:
      return "ipv4";
    case Type::ipv6:
      return "ipv6";
    case Type::string:
      return "string";
    case Type::binary:
      return "binary";
  }
  return "invalid-type";
}

constexpr std::string_view to_string(Status status) noexcept {
  switch (status) {
    case Status::ok:
      return "ok";
    case Status::invalid_argument:
      return "invalid argument";
    case Status::bad_name:
      return "bad name";
    case Status::too_big:
      return "too big";
    case Status::not_allowed:
      return "not allowed";
    case Status::duplicate:
      return "duplicate";
    case Status::not_claimed:
      return "not claimed";
    case Status::host_failure:
      return "host failure";
    case Status::unsupported:
      return "not supported by this host";
  }
  return "invalid-status";
}

constexpr std::string_view to_string(Result result) noexcept {
  switch (result) {
    case Result::done:
      return "done";
    case Result::failed:
      return "failed";
    case Result::pending:
      return "pending";
  }
  return "invalid-result";
}

/* "proc", "sess", "txn", "req" or "res", as written in haproxy.cfg. */
constexpr std::optional<Scope> parse_scope(std::string_view text) noexcept {
  for (Scope s : {Scope::proc, Scope::sess, Scope::txn, Scope::req, Scope::res}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

/* A duration as the spoa-host config writes them: an integer and a unit among ns, us, ms,
 * s, m, h ("100ms", "5s", "10m"); "0" needs no unit. nullopt if malformed or too large. */
inline std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text) noexcept {
  std::size_t i = 0;
  std::int64_t count = 0;
  constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    const int digit = text[i] - '0';
    if (count > (max - digit) / 10) return std::nullopt;
    count = count * 10 + digit;
    ++i;
  }
  if (i == 0) return std::nullopt;
  const std::string_view unit = text.substr(i);
  if (unit.empty()) {
    if (count == 0) return std::chrono::nanoseconds(0);
    return std::nullopt;
  }
  struct UnitScale {
    std::string_view name;
    std::int64_t ns;
  };
  constexpr UnitScale units[] = {{"ns", 1},
                                 {"us", 1000},
                                 {"ms", 1000 * 1000},
                                 {"s", 1000 * 1000 * 1000},
                                 {"m", 60LL * 1000 * 1000 * 1000},
                                 {"h", 3600LL * 1000 * 1000 * 1000}};
  for (const UnitScale& u : units) {
    if (u.name != unit) continue;
    if (count > max / u.ns) return std::nullopt;
    return std::chrono::nanoseconds(count * u.ns);
  }
  return std::nullopt;
}

/* ------------------------------------------------------------------------------------ */
/* Views                                                                                  */
/* ------------------------------------------------------------------------------------ */

/* plugin.h allows ptr == NULL with len == 0; std::string_view(nullptr, 0) is fine too, but
 * the explicit branch keeps sanitizers and older libraries quiet. */
constexpr std::string_view to_view(spoa_str s) noexcept {
  return s.len == 0 ? std::string_view() : std::string_view(s.ptr, s.len);
}

constexpr spoa_str to_str(std::string_view s) noexcept {
  return spoa_str{s.data(), s.size()};
}

/* Thrown by the wrapper's own helpers during init (bad config, registration refused). */
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/* Addresses in network byte order, exactly as they travel in SPOP. */
struct Ipv4 {
  std::array<std::uint8_t, 4> bytes{};
};
struct Ipv6 {
  std::array<std::uint8_t, 16> bytes{};
};
inline bool operator==(const Ipv4& a, const Ipv4& b) noexcept {
  return a.bytes == b.bytes;
}
inline bool operator!=(const Ipv4& a, const Ipv4& b) noexcept {
  return !(a == b);
}
inline bool operator==(const Ipv6& a, const Ipv6& b) noexcept {
  return a.bytes == b.bytes;
}
inline bool operator!=(const Ipv6& a, const Ipv6& b) noexcept {
  return !(a == b);
}

/* Marks bytes to be sent as BINARY; a plain string_view is sent as STRING. */
struct Binary {
  std::string_view bytes;
};

/* A borrowed, typed SPOP value. Every as_*() returns nullopt when the value is of another
 * type, so a handler states what it accepts and falls back with value_or(). The integer
 * accessors take any of the four integer types whose value fits the requested one
 * (HAProxy sends every integer sample as INT64). */
class Value {
 public:
  explicit Value(const spoa_value& value) noexcept : v_(&value) {}

  Type type() const noexcept { return static_cast<Type>(v_->type); }
  bool is_null() const noexcept { return v_->type == SPOA_TYPE_NULL; }
  bool is_integer() const noexcept {
    return v_->type >= SPOA_TYPE_INT32 && v_->type <= SPOA_TYPE_UINT64;
  }

  std::optional<bool> as_bool() const noexcept {
    if (v_->type != SPOA_TYPE_BOOL) return std::nullopt;
    return v_->u.boolean != 0;
  }
  std::optional<std::int64_t> as_int64() const noexcept { return as_integer<std::int64_t>(); }
  std::optional<std::uint64_t> as_uint64() const noexcept { return as_integer<std::uint64_t>(); }
  std::optional<std::int32_t> as_int32() const noexcept { return as_integer<std::int32_t>(); }
  std::optional<std::uint32_t> as_uint32() const noexcept { return as_integer<std::uint32_t>(); }

  std::optional<Ipv4> as_ipv4() const noexcept {
    if (v_->type != SPOA_TYPE_IPV4) return std::nullopt;
    Ipv4 ip;
    std::memcpy(ip.bytes.data(), v_->u.ipv4, ip.bytes.size());
    return ip;
  }
  std::optional<Ipv6> as_ipv6() const noexcept {
    if (v_->type != SPOA_TYPE_IPV6) return std::nullopt;
    Ipv6 ip;
    std::memcpy(ip.bytes.data(), v_->u.ipv6, ip.bytes.size());
    return ip;
  }

  /* STRING only. */
  std::optional<std::string_view> as_string() const noexcept {
    if (v_->type != SPOA_TYPE_STRING) return std::nullopt;
    return to_view(v_->u.bytes);
  }
  /* BINARY only. */
  std::optional<std::string_view> as_binary() const noexcept {
    if (v_->type != SPOA_TYPE_BINARY) return std::nullopt;
    return to_view(v_->u.bytes);
  }
  /* STRING or BINARY: HAProxy sends some samples (headers, bodies) as BINARY. */
  std::optional<std::string_view> as_bytes() const noexcept {
    if (v_->type != SPOA_TYPE_STRING && v_->type != SPOA_TYPE_BINARY) return std::nullopt;
    return to_view(v_->u.bytes);
  }

  const spoa_value& raw() const noexcept { return *v_; }

 private:
  template <class T>
  std::optional<T> as_integer() const noexcept {
    switch (v_->type) {
      case SPOA_TYPE_INT32:
        return fit<T>(static_cast<std::int64_t>(v_->u.int32));
      case SPOA_TYPE_INT64:
        return fit<T>(v_->u.int64);
      case SPOA_TYPE_UINT32:
        return fit_unsigned<T>(v_->u.uint32);
      case SPOA_TYPE_UINT64:
        return fit_unsigned<T>(v_->u.uint64);
      default:
        return std::nullopt;
    }
  }
  template <class T>
  static std::optional<T> fit(std::int64_t v) noexcept {
    if constexpr (std::is_signed_v<T>) {
      if (v < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
          v > static_cast<std::int64_t>(std::numeric_limits<T>::max()))
        return std::nullopt;
    } else {
      if (v < 0 || static_cast<std::uint64_t>(v) > std::numeric_limits<T>::max())
        return std::nullopt;
    }
    return static_cast<T>(v);
  }
  template <class T>
  static std::optional<T> fit_unsigned(std::uint64_t v) noexcept {
    if (v > static_cast<std::uint64_t>(std::numeric_limits<T>::max())) return std::nullopt;
    return static_cast<T>(v);
  }

  const spoa_value* v_;
};

/* A value with its own storage, for keeping an argument past the handler call (for
 * example to answer from another thread after PENDING). */
class OwnedValue {
 public:
  OwnedValue() noexcept { raw_.type = SPOA_TYPE_NULL; }
  explicit OwnedValue(Value v) : raw_(v.raw()) {
    if (is_bytes()) {
      bytes_.assign(to_view(raw_.u.bytes));
      point_into_storage();
    }
  }
  OwnedValue(const OwnedValue& other) : raw_(other.raw_), bytes_(other.bytes_) {
    point_into_storage();
  }
  OwnedValue(OwnedValue&& other) noexcept : raw_(other.raw_), bytes_(std::move(other.bytes_)) {
    point_into_storage();
    other.point_into_storage();
  }
  OwnedValue& operator=(const OwnedValue& other) {
    if (this != &other) {
      bytes_ = other.bytes_;
      raw_ = other.raw_;
      point_into_storage();
    }
    return *this;
  }
  OwnedValue& operator=(OwnedValue&& other) noexcept {
    if (this != &other) {
      bytes_ = std::move(other.bytes_);
      raw_ = other.raw_;
      point_into_storage();
      other.point_into_storage();
    }
    return *this;
  }
  ~OwnedValue() = default;

  Type type() const noexcept { return static_cast<Type>(raw_.type); }
  Value value() const noexcept { return Value(raw_); }
  const spoa_value& raw() const noexcept { return raw_; }

 private:
  bool is_bytes() const noexcept {
    return raw_.type == SPOA_TYPE_STRING || raw_.type == SPOA_TYPE_BINARY;
  }
  /* The view must follow the string's buffer, which moves on copy, move and SSO. */
  void point_into_storage() noexcept {
    if (is_bytes()) raw_.u.bytes = to_str(bytes_);
  }

  spoa_value raw_{};
  std::string bytes_;
};

/* One message argument. */
class Arg {
 public:
  explicit Arg(const spoa_arg& arg) noexcept : a_(&arg) {}

  /* Empty for an unnamed argument. */
  std::string_view name() const noexcept { return to_view(a_->name); }
  Value value() const noexcept { return Value(a_->value); }

  Type type() const noexcept { return value().type(); }
  bool is_null() const noexcept { return value().is_null(); }
  std::optional<bool> as_bool() const noexcept { return value().as_bool(); }
  std::optional<std::int32_t> as_int32() const noexcept { return value().as_int32(); }
  std::optional<std::uint32_t> as_uint32() const noexcept { return value().as_uint32(); }
  std::optional<std::int64_t> as_int64() const noexcept { return value().as_int64(); }
  std::optional<std::uint64_t> as_uint64() const noexcept { return value().as_uint64(); }
  std::optional<Ipv4> as_ipv4() const noexcept { return value().as_ipv4(); }
  std::optional<Ipv6> as_ipv6() const noexcept { return value().as_ipv6(); }
  std::optional<std::string_view> as_string() const noexcept { return value().as_string(); }
  std::optional<std::string_view> as_binary() const noexcept { return value().as_binary(); }
  std::optional<std::string_view> as_bytes() const noexcept { return value().as_bytes(); }

  const spoa_arg& raw() const noexcept { return *a_; }

 private:
  const spoa_arg* a_;
};

/* The arguments of one message, in spoe.conf `args` order. */
class Args {
 public:
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Arg;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = Arg;

    iterator() noexcept = default;
    explicit iterator(const spoa_arg* p) noexcept : p_(p) {}
    Arg operator*() const noexcept { return Arg(*p_); }
    iterator& operator++() noexcept {
      ++p_;
      return *this;
    }
    iterator operator++(int) noexcept {
      iterator old = *this;
      ++p_;
      return old;
    }
    bool operator==(const iterator& o) const noexcept { return p_ == o.p_; }
    bool operator!=(const iterator& o) const noexcept { return p_ != o.p_; }

   private:
    const spoa_arg* p_ = nullptr;
  };

  Args(const spoa_arg* args, std::size_t count) noexcept
      : args_(count == 0 ? nullptr : args), count_(args == nullptr ? 0 : count) {}

  std::size_t size() const noexcept { return count_; }
  bool empty() const noexcept { return count_ == 0; }
  /* Precondition: index < size(). */
  Arg operator[](std::size_t index) const noexcept { return Arg(args_[index]); }
  iterator begin() const noexcept { return iterator(args_); }
  iterator end() const noexcept { return iterator(args_ == nullptr ? nullptr : args_ + count_); }

  /* The first argument with that name. */
  std::optional<Arg> find(std::string_view name) const noexcept {
    for (Arg a : *this) {
      if (a.name() == name) return a;
    }
    return std::nullopt;
  }

 private:
  const spoa_arg* args_;
  std::size_t count_;
};

/* The message a handler answers. Valid only during the handler call. */
class Message {
 public:
  Message(spoa_str name, const spoa_arg* args, std::size_t nargs) noexcept
      : name_(to_view(name)), args_(args, nargs) {}

  std::string_view name() const noexcept { return name_; }
  const Args& args() const noexcept { return args_; }
  std::optional<Arg> find(std::string_view arg_name) const noexcept { return args_.find(arg_name); }

 private:
  std::string_view name_;
  Args args_;
};

/* ------------------------------------------------------------------------------------ */
/* Logging                                                                                */
/* ------------------------------------------------------------------------------------ */

/* Writes lines tagged with the instance name. Cheap to copy; usable from any thread from
 * init until the plugin object is destroyed. A default-constructed Logger drops lines. */
class Logger {
 public:
  Logger() noexcept = default;
  Logger(const spoa_host_api* host, spoa_instance* instance) noexcept
      : host_(host), instance_(instance) {}

  void log(LogLevel level, std::string_view text) const noexcept {
    if (host_ != nullptr && host_->log != nullptr)
      host_->log(instance_, detail::to_abi(level), to_str(text));
  }
  void trace(std::string_view text) const noexcept { log(LogLevel::trace, text); }
  void debug(std::string_view text) const noexcept { log(LogLevel::debug, text); }
  void info(std::string_view text) const noexcept { log(LogLevel::info, text); }
  void warn(std::string_view text) const noexcept { log(LogLevel::warn, text); }
  void error(std::string_view text) const noexcept { log(LogLevel::error, text); }

 private:
  const spoa_host_api* host_ = nullptr;
  spoa_instance* instance_ = nullptr;
};

/* ------------------------------------------------------------------------------------ */
/* Answering a request                                                                    */
/* ------------------------------------------------------------------------------------ */

namespace detail {
template <class T>
inline constexpr bool is_character_v = std::is_same_v<T, char> || std::is_same_v<T, wchar_t> ||
                                       std::is_same_v<T, char16_t> || std::is_same_v<T, char32_t>
#if defined(__cpp_char8_t)
                                       || std::is_same_v<T, char8_t>
#endif
    ;
template <class T>
inline constexpr bool is_spop_integer_v =
    std::is_integral_v<T> && !std::is_same_v<T, bool> && !is_character_v<T>;
}  // namespace detail

/* set()/unset() on one request; the common part of Reply and PendingRequest.
 * set() picks the SPOP type from the C++ type: bool -> BOOL; signed integers of up to 32
 * bits -> INT32, 64 bits -> INT64; unsigned likewise UINT32/UINT64; string_view,
 * std::string and const char* -> STRING; Binary -> BINARY; Ipv4/Ipv6; nullptr -> NULL
 * (HAProxy unsets the variable); Value/OwnedValue keep their own type. The host copies
 * name and value before returning. */
class VarWriter {
 public:
  Status set(Scope scope, std::string_view name, const spoa_value& value) noexcept {
    if (request_ == nullptr) return Status::not_allowed;
    return detail::to_status(host_->set_var(request_, detail::to_abi(scope), to_str(name), &value));
  }
  Status set(Scope scope, std::string_view name, Value value) noexcept {
    return set(scope, name, value.raw());
  }
  Status set(Scope scope, std::string_view name, const OwnedValue& value) noexcept {
    return set(scope, name, value.raw());
  }
  Status set(Scope scope, std::string_view name, std::nullptr_t) noexcept {
    spoa_value v{};
    v.type = SPOA_TYPE_NULL;
    return set(scope, name, v);
  }
  Status set(Scope scope, std::string_view name, bool value) noexcept {
    spoa_value v{};
    v.type = SPOA_TYPE_BOOL;
    v.u.boolean = value ? 1 : 0;
    return set(scope, name, v);
  }
  template <class T, std::enable_if_t<detail::is_spop_integer_v<T>, int> = 0>
  Status set(Scope scope, std::string_view name, T value) noexcept {
    static_assert(sizeof(T) <= 8, "SPOP integers are at most 64 bits");
    spoa_value v{};
    if constexpr (std::is_signed_v<T> && sizeof(T) <= 4) {
      v.type = SPOA_TYPE_INT32;
      v.u.int32 = static_cast<std::int32_t>(value);
    } else if constexpr (std::is_signed_v<T>) {
      v.type = SPOA_TYPE_INT64;
      v.u.int64 = static_cast<std::int64_t>(value);
    } else if constexpr (sizeof(T) <= 4) {
      v.type = SPOA_TYPE_UINT32;
      v.u.uint32 = static_cast<std::uint32_t>(value);
    } else {
      v.type = SPOA_TYPE_UINT64;
      v.u.uint64 = static_cast<std::uint64_t>(value);
    }
    return set(scope, name, v);
  }
  /* A char is far more often a bug (a one-letter string?) than a small integer. */
  template <class T, std::enable_if_t<detail::is_character_v<T>, int> = 0>
  Status set(Scope scope, std::string_view name, T value) = delete;
  /* SPOP has no floating-point type. */
  template <class T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
  Status set(Scope scope, std::string_view name, T value) = delete;
  Status set(Scope scope, std::string_view name, std::string_view value) noexcept {
    return set_bytes(scope, name, SPOA_TYPE_STRING, value);
  }
  Status set(Scope scope, std::string_view name, const std::string& value) noexcept {
    return set_bytes(scope, name, SPOA_TYPE_STRING, value);
  }
  /* Without this overload a string literal would convert to bool. */
  Status set(Scope scope, std::string_view name, const char* value) noexcept {
    if (value == nullptr) return Status::invalid_argument;
    return set_bytes(scope, name, SPOA_TYPE_STRING, std::string_view(value));
  }
  Status set(Scope scope, std::string_view name, Binary value) noexcept {
    return set_bytes(scope, name, SPOA_TYPE_BINARY, value.bytes);
  }
  Status set(Scope scope, std::string_view name, const Ipv4& value) noexcept {
    spoa_value v{};
    v.type = SPOA_TYPE_IPV4;
    std::memcpy(v.u.ipv4, value.bytes.data(), value.bytes.size());
    return set(scope, name, v);
  }
  Status set(Scope scope, std::string_view name, const Ipv6& value) noexcept {
    spoa_value v{};
    v.type = SPOA_TYPE_IPV6;
    std::memcpy(v.u.ipv6, value.bytes.data(), value.bytes.size());
    return set(scope, name, v);
  }

  Status unset(Scope scope, std::string_view name) noexcept {
    if (request_ == nullptr) return Status::not_allowed;
    return detail::to_status(host_->unset_var(request_, detail::to_abi(scope), to_str(name)));
  }

  /* True once the host no longer wants the answer (deadline passed, connection closed,
   * daemon stopping): stop working and complete. Any thread holding the request. */
  bool abandoned() const noexcept {
    if (request_ == nullptr) return true;
    if (!SPOA_HOST_HAS(host_, request_abandoned)) return false;
    return host_->request_abandoned(request_) != 0;
  }

  /* Calls callback(user, request) once, on a host I/O thread, if the host abandons the
   * request before it is completed (plugin.h on_abandon: must not block). */
  Status on_abandon(void (*callback)(void* user, spoa_request* request), void* user) noexcept {
    if (request_ == nullptr) return Status::not_allowed;
    if (!SPOA_HOST_HAS(host_, on_abandon)) return Status::unsupported;
    return detail::to_status(host_->on_abandon(request_, callback, user));
  }

 protected:
  VarWriter() noexcept = default;
  VarWriter(const spoa_host_api* host, spoa_instance* instance, spoa_request* request) noexcept
      : host_(host), instance_(instance), request_(request) {}

  const spoa_host_api* host_ = nullptr;
  spoa_instance* instance_ = nullptr;
  spoa_request* request_ = nullptr; /* null once the request is no longer ours */

 private:
  Status set_bytes(Scope scope, std::string_view name, std::uint32_t type,
                   std::string_view bytes) noexcept {
    spoa_value v{};
    v.type = type;
    v.u.bytes = to_str(bytes);
    return set(scope, name, v);
  }
};

/* A request whose handler returned Result::pending, to be finished later from any thread
 * (one thread at a time). Movable, not copyable. complete() takes effect once; later calls
 * return Status::not_allowed without reaching the host. Destroying it unfinished answers
 * SPOA_FAILED and logs a warning. */
class PendingRequest : public VarWriter {
 public:
  PendingRequest() noexcept = default;
  PendingRequest(const PendingRequest&) = delete;
  PendingRequest& operator=(const PendingRequest&) = delete;
  PendingRequest(PendingRequest&& other) noexcept
      : VarWriter(other.host_, other.instance_, other.request_) {
    other.request_ = nullptr;
  }
  PendingRequest& operator=(PendingRequest&& other) noexcept {
    if (this != &other) {
      abandon();
      host_ = other.host_;
      instance_ = other.instance_;
      request_ = other.request_;
      other.request_ = nullptr;
    }
    return *this;
  }
  ~PendingRequest() { abandon(); }

  /* result is Result::done or Result::failed. After it the handle is spent. */
  Status complete(Result result = Result::done) noexcept {
    if (request_ == nullptr) return Status::not_allowed;
    if (result != Result::done && result != Result::failed) return Status::invalid_argument;
    spoa_request* request = std::exchange(request_, nullptr);
    return detail::to_status(host_->complete(request, detail::to_abi(result)));
  }

  /* True while this object still owes the host a complete(). */
  bool pending() const noexcept { return request_ != nullptr; }
  explicit operator bool() const noexcept { return pending(); }

  /* Gives up the handle without completing it: whoever takes it must call the C table's
   * complete() exactly once. For code that mixes the C API in. */
  spoa_request* release() noexcept { return std::exchange(request_, nullptr); }
  const spoa_host_api* host() const noexcept { return host_; }

 private:
  friend class Reply;
  PendingRequest(const spoa_host_api* host, spoa_instance* instance, spoa_request* request) noexcept
      : VarWriter(host, instance, request) {}

  void abandon() noexcept {
    if (request_ == nullptr) return;
    Logger(host_, instance_)
        .warn("a PendingRequest was destroyed without complete(); answering failed");
    complete(Result::failed);
  }
};

/* The facts of the NOTIFY a request belongs to (plugin.h spoa_request_context). The views
 * are valid during the handler call only. */
struct RequestContext {
  std::uint64_t stream_id = 0;
  std::uint64_t frame_id = 0;
  /* When the host answers without this message (CLOCK_MONOTONIC, which steady_clock is on
   * Linux). */
  std::chrono::steady_clock::time_point deadline;
  std::string_view engine_id;
  std::string_view peer;
  bool pool = false; /* the handler runs on a host pool thread and may block */
};

/* What a handler writes its answer into. To answer later, call defer() and return
 * Result::pending: from then on the PendingRequest owns the request and this Reply refuses
 * set() with Status::not_allowed. */
class Reply : public VarWriter {
 public:
  Reply(const spoa_host_api* host, spoa_instance* instance, spoa_request* request) noexcept
      : VarWriter(host, instance, request) {}
  Reply(const Reply&) = delete;
  Reply& operator=(const Reply&) = delete;

  /* The request's context; nullopt when the host is older than ABI 1.1 or after defer(). */
  std::optional<RequestContext> context() const noexcept {
    if (request_ == nullptr || !SPOA_HOST_HAS(host_, request_context)) return std::nullopt;
    spoa_request_context raw{};
    raw.struct_size = sizeof raw;
    if (host_->request_context(request_, &raw) != SPOA_OK) return std::nullopt;
    RequestContext c;
    c.stream_id = raw.stream_id;
    c.frame_id = raw.frame_id;
    c.deadline = std::chrono::steady_clock::time_point(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::nanoseconds(raw.deadline_ns)));
    c.engine_id = to_view(raw.engine_id);
    c.peer = to_view(raw.peer);
    c.pool = (raw.flags & SPOA_REQUEST_POOL) != 0;
    return c;
  }

  /* Throws std::logic_error when called twice. */
  PendingRequest defer() {
    if (deferred_) throw std::logic_error("spoa::Reply::defer() called twice");
    deferred_ = true;
    return PendingRequest(host_, instance_, std::exchange(request_, nullptr));
  }
  bool deferred() const noexcept { return deferred_; }

 private:
  bool deferred_ = false;
};

/* ------------------------------------------------------------------------------------ */
/* Configuration                                                                          */
/* ------------------------------------------------------------------------------------ */

struct ConfigEntry {
  std::string_view key;
  std::string_view value;
};

/* The instance's [plugins.NAME.config] table, flattened by the host: nested tables as
 * dotted keys, arrays comma-joined, numbers and booleans as their TOML text.
 * Valid only during the plugin's constructor: copy what you keep. */
class Config {
 public:
  Config(const spoa_config_entry* entries, std::size_t count) {
    if (entries == nullptr) return;
    entries_.reserve(count);
    for (std::size_t i = 0; i < count; ++i)
      entries_.push_back({to_view(entries[i].key), to_view(entries[i].value)});
  }

  std::size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }
  std::vector<ConfigEntry>::const_iterator begin() const noexcept { return entries_.begin(); }
  std::vector<ConfigEntry>::const_iterator end() const noexcept { return entries_.end(); }

  bool contains(std::string_view key) const noexcept { return get(key).has_value(); }
  std::optional<std::string_view> get(std::string_view key) const noexcept {
    for (const ConfigEntry& e : entries_) {
      if (e.key == key) return e.value;
    }
    return std::nullopt;
  }
  std::string_view get_or(std::string_view key, std::string_view fallback) const noexcept {
    return get(key).value_or(fallback);
  }
  /* A comma-joined array (or a single string) as trimmed, non-empty items. */
  std::vector<std::string_view> get_list(std::string_view key,
                                         std::string_view fallback = {}) const {
    return split_list(get_or(key, fallback));
  }

  /* Throws Error naming the first key that is not in `known`: a typo in the config should
   * stop the server at start, not be silently ignored. */
  void reject_unknown(std::initializer_list<std::string_view> known) const {
    for (const ConfigEntry& e : entries_) {
      bool found = false;
      for (std::string_view k : known)
        found = found || k == e.key;
      if (found) continue;
      std::string msg = "unknown config key '" + std::string(e.key) + "'";
      if (known.size() != 0) {
        msg += " (known keys:";
        for (std::string_view k : known)
          msg.append(" ").append(k);
        msg += ")";
      }
      throw Error(msg);
    }
  }

  static std::vector<std::string_view> split_list(std::string_view text) {
    std::vector<std::string_view> items;
    while (!text.empty()) {
      const std::size_t comma = text.find(',');
      std::string_view item = text.substr(0, comma);
      text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
      while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
        item.remove_prefix(1);
      while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
        item.remove_suffix(1);
      if (!item.empty()) items.push_back(item);
    }
    return items;
  }

 private:
  std::vector<ConfigEntry> entries_;
};

/* One node of the instance's structured config (plugin.h spoa_config_value): a cheap,
 * copyable view. A missing member or element is a null ConfigValue (exists() false), so
 * lookups chain: cfg["feeds"].at(0)["url"].as_string(). Valid until the plugin object is
 * destroyed. */
class ConfigValue {
 public:
  enum class Kind : std::int32_t {
    missing = 0,
    string = SPOA_CONFIG_STRING,
    integer = SPOA_CONFIG_INT,
    floating = SPOA_CONFIG_FLOAT,
    boolean = SPOA_CONFIG_BOOL,
    array = SPOA_CONFIG_ARRAY,
    table = SPOA_CONFIG_TABLE
  };

  ConfigValue() noexcept = default;
  explicit ConfigValue(const spoa_config_value* raw, std::string path = {}) noexcept
      : raw_(raw), path_(std::move(path)) {}

  bool exists() const noexcept { return raw_ != nullptr; }
  explicit operator bool() const noexcept { return exists(); }
  Kind kind() const noexcept {
    return raw_ == nullptr ? Kind::missing : static_cast<Kind>(raw_->type);
  }
  bool is_table() const noexcept { return kind() == Kind::table; }
  bool is_array() const noexcept { return kind() == Kind::array; }
  const spoa_config_value* raw() const noexcept { return raw_; }
  /* The key path from the config table ("feeds[0].url"), for messages. */
  const std::string& path() const noexcept { return path_; }

  /* "FILE:LINE:COL" of the value, or of its table when it is missing. */
  std::string where() const {
    if (raw_ == nullptr) return std::string();
    return std::string(to_view(raw_->file)) + ":" + std::to_string(raw_->line) + ":" +
           std::to_string(raw_->column);
  }

  /* Members of a table (0 for anything else) and elements of an array. */
  std::size_t size() const noexcept {
    if (is_table()) return raw_->u.table.count;
    if (is_array()) return raw_->u.array.count;
    return 0;
  }
  ConfigValue operator[](std::string_view key) const {
    std::string sub = path_.empty() ? std::string(key) : path_ + "." + std::string(key);
    if (!is_table()) return ConfigValue(nullptr, std::move(sub));
    for (std::size_t i = 0; i < raw_->u.table.count; ++i) {
      if (to_view(raw_->u.table.members[i].key) == key)
        return ConfigValue(raw_->u.table.members[i].value, std::move(sub));
    }
    return ConfigValue(nullptr, std::move(sub));
  }
  ConfigValue at(std::size_t index) const {
    std::string sub = path_ + "[" + std::to_string(index) + "]";
    if (!is_array() || index >= raw_->u.array.count) return ConfigValue(nullptr, std::move(sub));
    return ConfigValue(raw_->u.array.items[index], std::move(sub));
  }
  /* The key of a table's index-th member. */
  std::string_view key_at(std::size_t index) const noexcept {
    if (!is_table() || index >= raw_->u.table.count) return {};
    return to_view(raw_->u.table.members[index].key);
  }
  ConfigValue member_at(std::size_t index) const {
    if (!is_table() || index >= raw_->u.table.count) return ConfigValue();
    return (*this)[key_at(index)];
  }

  std::optional<std::string_view> as_string() const noexcept {
    if (kind() != Kind::string) return std::nullopt;
    return to_view(raw_->u.string);
  }
  std::optional<std::int64_t> as_int() const noexcept {
    if (kind() != Kind::integer) return std::nullopt;
    return raw_->u.integer;
  }
  /* A float, or an integer read as one (TOML's 1 and 1.0 both mean "one" to a person). */
  std::optional<double> as_float() const noexcept {
    if (kind() == Kind::floating) return raw_->u.floating;
    if (kind() == Kind::integer) return static_cast<double>(raw_->u.integer);
    return std::nullopt;
  }
  std::optional<bool> as_bool() const noexcept {
    if (kind() != Kind::boolean) return std::nullopt;
    return raw_->u.boolean != 0;
  }

  /* The typed value, or an Error "FILE:LINE:COL: PATH: expected a string, got ..." a
   * constructor can let escape (init then fails with that text). */
  std::string_view string() const { return require(as_string(), "a string"); }
  std::int64_t integer() const { return require(as_int(), "an integer"); }
  double floating() const { return require(as_float(), "a number"); }
  bool boolean() const { return require(as_bool(), "a boolean"); }

  /* Throws Error, located at this value, with `message` after the path. */
  [[noreturn]] void fail(std::string_view message) const {
    std::string text;
    if (raw_ != nullptr) text = where() + ": ";
    if (!path_.empty()) text += path_ + ": ";
    text += std::string(message);
    throw Error(text);
  }

  /* Throws Error naming the first member of this table that is not in `known`. */
  void reject_unknown(std::initializer_list<std::string_view> known) const {
    for (std::size_t i = 0; i < size() && is_table(); ++i) {
      const std::string_view key = key_at(i);
      bool found = false;
      for (std::string_view k : known)
        found = found || k == key;
      if (!found) (*this)[key].fail("unknown key");
    }
  }

  static std::string_view kind_name(Kind k) noexcept {
    switch (k) {
      case Kind::missing:
        return "nothing (missing)";
      case Kind::string:
        return "a string";
      case Kind::integer:
        return "an integer";
      case Kind::floating:
        return "a float";
      case Kind::boolean:
        return "a boolean";
      case Kind::array:
        return "an array";
      case Kind::table:
        return "a table";
    }
    return "an unknown type";
  }

 private:
  template <class T>
  T require(const std::optional<T>& value, std::string_view expected) const {
    if (value) return *value;
    fail("expected " + std::string(expected) + ", got " + std::string(kind_name(kind())));
  }

  const spoa_config_value* raw_ = nullptr;
  std::string path_;
};

/* A counter or histogram an instance defined with InitContext::counter()/histogram().
 * Cheap to copy; usable from any thread until the plugin object is destroyed. A
 * default-constructed Metric (or one from a host older than 1.1) drops samples. */
class Metric {
 public:
  Metric() noexcept = default;
  Metric(const spoa_host_api* host, spoa_metric* metric) noexcept : host_(host), metric_(metric) {}

  /* Counters: adds `delta` to the series of these label values, in definition order. */
  Status add(std::uint64_t delta = 1,
             std::initializer_list<std::string_view> labels = {}) const noexcept {
    if (metric_ == nullptr) return Status::unsupported;
    return with_labels(labels, [&](const spoa_str* raw, std::size_t n) {
      return host_->metric_add(metric_, raw, n, delta);
    });
  }
  /* Histograms: records `value` in the series of these label values. */
  Status observe(double value, std::initializer_list<std::string_view> labels = {}) const noexcept {
    if (metric_ == nullptr) return Status::unsupported;
    return with_labels(labels, [&](const spoa_str* raw, std::size_t n) {
      return host_->metric_observe(metric_, raw, n, value);
    });
  }
  /* Gauges: sets the series of these label values to `value`. */
  Status set(double value, std::initializer_list<std::string_view> labels = {}) const noexcept {
    if (metric_ == nullptr || !SPOA_HOST_HAS(host_, metric_set)) return Status::unsupported;
    return with_labels(labels, [&](const spoa_str* raw, std::size_t n) {
      return host_->metric_set(metric_, raw, n, value);
    });
  }
  explicit operator bool() const noexcept { return metric_ != nullptr; }

 private:
  /* The label values as the C table takes them, without allocating. */
  template <class Call>
  static Status with_labels(std::initializer_list<std::string_view> labels, Call call) noexcept {
    std::array<spoa_str, 8> raw{};
    if (labels.size() > raw.size()) return Status::invalid_argument;
    std::size_t n = 0;
    for (std::string_view l : labels)
      raw[n++] = to_str(l);
    return detail::to_status(call(raw.data(), n));
  }
  const spoa_host_api* host_ = nullptr;
  spoa_metric* metric_ = nullptr;
};

/* ------------------------------------------------------------------------------------ */
/* Boundary machinery                                                                     */
/* ------------------------------------------------------------------------------------ */

/* A handler as the C table wants it. */
struct CHandler {
  spoa_message_handler function;
  void* user;
};

namespace detail {

inline std::string exception_type_name(const std::type_info& type) {
#if defined(SPOA_PLUGIN_HPP_DEMANGLE)
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> name(
      abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), &std::free);
  if (status == 0 && name) return std::string(name.get());
#endif
  return std::string(type.name());
}

/* Logs the exception being handled; must be called from inside a catch block. Never
 * throws, even when building the text runs out of memory. */
inline void log_current_exception(const Logger& logger, std::string_view message) noexcept {
  try {
    std::string text = "handler for message '" + std::string(message) + "'";
    try {
      throw;
    } catch (const std::exception& e) {
      text += " threw " + exception_type_name(typeid(e)) + ": " + e.what();
    } catch (...) {
      text += " threw an exception not derived from std::exception";
    }
    logger.error(text);
  } catch (...) {
    logger.error("a handler threw, and describing the exception failed too");
  }
}

inline void write_error(char* error, std::size_t error_size, std::string_view text) noexcept {
  if (error == nullptr || error_size == 0) return;
  const std::size_t n = text.size() < error_size - 1 ? text.size() : error_size - 1;
  if (n != 0) std::memcpy(error, text.data(), n);
  error[n] = '\0';
}

class HandlerBase {
 public:
  HandlerBase(const spoa_host_api* h, spoa_instance* i) noexcept : host(h), instance(i) {}
  virtual ~HandlerBase() = default;
  HandlerBase(const HandlerBase&) = delete;
  HandlerBase& operator=(const HandlerBase&) = delete;
  virtual Result call(const Message& msg, Reply& reply) = 0;

  const spoa_host_api* const host;
  spoa_instance* const instance;
};

template <class F>
class Handler final : public HandlerBase {
 public:
  template <class G>
  Handler(const spoa_host_api* h, spoa_instance* i, G&& f)
      : HandlerBase(h, i), f_(std::forward<G>(f)) {}

  Result call(const Message& msg, Reply& reply) override {
    using R = std::invoke_result_t<F&, const Message&, Reply&>;
    if constexpr (std::is_void_v<R>) {
      f_(msg, reply);
      return reply.deferred() ? Result::pending : Result::done;
    } else {
      static_assert(std::is_same_v<R, Result>,
                    "a spoa handler returns spoa::Result or void; its parameters are "
                    "(const spoa::Message&, spoa::Reply&)");
      return f_(msg, reply);
    }
  }

 private:
  F f_;
};

/* The C handler behind every on(): converts at the boundary (Result -> int32_t) and keeps
 * exceptions on this side of it. */
inline std::int32_t dispatch(void* user, spoa_request* request, spoa_str message,
                             const spoa_arg* args, std::size_t nargs) noexcept {
  auto* handler = static_cast<HandlerBase*>(user);
  const Logger logger(handler->host, handler->instance);
  Reply reply(handler->host, handler->instance, request);
  try {
    const Result result = handler->call(Message(message, args, nargs), reply);
    if (reply.deferred()) {
      /* The PendingRequest owns the request now (and may already have completed it), so
       * anything but PENDING would hand the host a request twice. */
      if (result != Result::pending)
        logger.warn("handler for message '" + std::string(to_view(message)) +
                    "' called defer() but returned " + std::string(to_string(result)) +
                    "; answering pending");
      return SPOA_PENDING;
    }
    switch (result) {
      case Result::done:
        return SPOA_DONE;
      case Result::failed:
        return SPOA_FAILED;
      case Result::pending:
        logger.error("handler for message '" + std::string(to_view(message)) +
                     "' returned pending without Reply::defer(); answering failed");
        return SPOA_FAILED;
    }
    logger.error("handler for message '" + std::string(to_view(message)) +
                 "' returned an invalid spoa::Result; answering failed");
    return SPOA_FAILED;
  } catch (...) {
    log_current_exception(logger, to_view(message));
    return reply.deferred() ? SPOA_PENDING : SPOA_FAILED;
  }
}

class InstanceBase {
 public:
  InstanceBase(const spoa_host_api* h, spoa_instance* i) noexcept : host(h), instance(i) {}
  virtual ~InstanceBase() = default;
  InstanceBase(const InstanceBase&) = delete;
  InstanceBase& operator=(const InstanceBase&) = delete;

  const spoa_host_api* const host;
  spoa_instance* const instance;
  /* unique_ptr: the host keeps each handler's address as its `user` pointer. */
  std::vector<std::unique_ptr<HandlerBase>> handlers;
};

}  // namespace detail

/* What a plugin's constructor receives: the config, a logger, the names of the messages the
 * instance was given, and on() to claim them. Only valid during the constructor (the Logger
 * it hands out lives on, and so do the views messages() returns: see there). */
class InitContext {
 public:
  InitContext(detail::InstanceBase& instance, const spoa_config_entry* config, std::size_t nconfig)
      : instance_(instance), config_(config, nconfig) {}
  InitContext(const InitContext&) = delete;
  InitContext& operator=(const InitContext&) = delete;

  const Config& config() const noexcept { return config_; }
  Logger logger() const noexcept { return Logger(instance_.host, instance_.instance); }

  /* The [plugins.NAME.config] table as a typed tree (ABI 1.1): arrays of tables, nested
   * tables, typed values with their FILE:LINE:COL. Throws Error on an older host. */
  ConfigValue settings() const {
    if (!SPOA_HOST_HAS(instance_.host, config))
      throw Error("spoa/plugin.hpp: the host (ABI " + std::to_string(instance_.host->abi_major) +
                  "." + std::to_string(instance_.host->abi_minor) +
                  ") has no structured config; it needs ABI 1.1");
    return ConfigValue(instance_.host->config(instance_.instance));
  }

  /* The instance's name ([plugins.NAME]); empty on a host older than 1.1. */
  std::string_view name() const noexcept {
    if (!SPOA_HOST_HAS(instance_.host, instance_name)) return {};
    return to_view(instance_.host->instance_name(instance_.instance));
  }

  /* Defines a counter exported as spoa_plugin_<name>{plugin="<instance>",labels...}
   * (plugin.h define_metric). Throws Error if the host refuses. */
  Metric counter(std::string_view name, std::string_view help,
                 std::initializer_list<std::string_view> labels = {},
                 std::uint32_t max_series = 0) const {
    return define(SPOA_METRIC_COUNTER, name, help, labels, max_series, {});
  }
  /* Defines a gauge (set, not added). */
  Metric gauge(std::string_view name, std::string_view help,
               std::initializer_list<std::string_view> labels = {},
               std::uint32_t max_series = 0) const {
    return define(SPOA_METRIC_GAUGE, name, help, labels, max_series, {});
  }
  /* Defines a histogram; `buckets` are increasing upper bounds (empty: the host's
   * default seconds buckets). */
  Metric histogram(std::string_view name, std::string_view help,
                   std::initializer_list<std::string_view> labels = {},
                   std::vector<double> buckets = {}, std::uint32_t max_series = 0) const {
    return define(SPOA_METRIC_HISTOGRAM, name, help, labels, max_series, std::move(buckets));
  }
  const spoa_host_api& host() const noexcept { return *instance_.host; }
  spoa_instance* instance() const noexcept { return instance_.instance; }

  /* True when the host's table has claimed_messages(), so messages() can answer. Every
   * host of ABI 1.0 as released has it; a hand-made or truncated table may not. */
  bool has_messages() const noexcept {
    const spoa_host_api* h = instance_.host;
    return h->struct_size >=
               offsetof(spoa_host_api, claimed_messages) + sizeof(h->claimed_messages) &&
           h->claimed_messages != nullptr;
  }

  /* The message names the spoa-host config maps to this instance (its `messages` list), in
   * config order: exactly the names on() accepts. The views point into the host's copy of
   * the config and stay valid until the plugin object is destroyed. Throws Error when the
   * host cannot tell (has_messages() is false). */
  std::vector<std::string_view> messages() const {
    if (!has_messages())
      throw Error(
          "spoa/plugin.hpp: the host's function table has no claimed_messages(), so the "
          "instance cannot learn its messages");
    const spoa_host_api* h = instance_.host;
    std::vector<spoa_str> names(h->claimed_messages(instance_.instance, nullptr, 0));
    for (;;) {
      const std::size_t count = h->claimed_messages(instance_.instance, names.data(), names.size());
      if (count <= names.size()) {
        names.resize(count);
        break;
      }
      names.resize(count);  // the list grew between the calls: ask again
    }
    std::vector<std::string_view> views;
    views.reserve(names.size());
    for (const spoa_str& n : names)
      views.push_back(to_view(n));
    return views;
  }

  /* Claims `message` and routes it to `handler`, a callable
   *   spoa::Result (const spoa::Message&, spoa::Reply&)   (or returning void = done).
   * It is called concurrently from every I/O thread. Throws Error if the host refuses
   * (for example a name the instance's `messages` list does not give it). */
  template <class F>
  void on(std::string_view message, F&& handler) {
    claim(message, wrap(std::forward<F>(handler)));
  }

  /* on() for a member function of the plugin (or any object outliving the instance). */
  template <class C>
  void on(std::string_view message, C* object, Result (C::*method)(const Message&, Reply&)) {
    on(message, bind(object, method));
  }
  template <class C>
  void on(std::string_view message, const C* object,
          Result (C::*method)(const Message&, Reply&) const) {
    on(message, bind(object, method));
  }

  /* Claims every message of messages() for one handler (Message::name() tells them
   * apart), so the operator writes the names once, in the spoa-host config:
   *   ctx.on_each_claimed(this, &MyPlugin::answer);
   * Throws Error when the host cannot tell the names (has_messages() is false). */
  template <class F>
  void on_each_claimed(F&& handler) {
    const std::vector<std::string_view> names = messages();
    if (names.empty()) return;
    const CHandler c = wrap(std::forward<F>(handler));
    for (std::string_view name : names)
      claim(name, c);
  }
  template <class C>
  void on_each_claimed(C* object, Result (C::*method)(const Message&, Reply&)) {
    on_each_claimed(bind(object, method));
  }
  template <class C>
  void on_each_claimed(const C* object, Result (C::*method)(const Message&, Reply&) const) {
    on_each_claimed(bind(object, method));
  }

  /* Claims only the names in `subset`, for a plugin config key that narrows the
   * instance's messages to some of them. Each name must be one of messages(): the first
   * that is not throws Error naming it (and listing the instance's messages when the host
   * can tell them); an empty subset throws too. Works with any host table, since the host
   * checks the names itself. */
  template <class F>
  void on_each_claimed(const std::vector<std::string_view>& subset, F&& handler) {
    if (subset.empty()) throw Error("an empty list of messages to claim");
    const CHandler c = wrap(std::forward<F>(handler));
    for (std::string_view name : subset)
      claim(name, c);
  }

  /* The C handler on() would register, without registering it: for code that calls the C
   * table's register_message() itself. Owned by the instance. */
  template <class F>
  CHandler wrap(F&& handler) {
    using Fn = std::decay_t<F>;
    static_assert(std::is_invocable_v<Fn&, const Message&, Reply&>,
                  "a spoa handler is callable as (const spoa::Message&, spoa::Reply&)");
    instance_.handlers.push_back(std::make_unique<detail::Handler<Fn>>(
        instance_.host, instance_.instance, std::forward<F>(handler)));
    return CHandler{&detail::dispatch, instance_.handlers.back().get()};
  }

 private:
  template <class C, class M>
  static auto bind(C* object, M method) {
    return [object, method](const Message& m, Reply& r) { return (object->*method)(m, r); };
  }

  /* register_message(), with a refusal turned into an Error a person can act on. */
  void claim(std::string_view message, const CHandler& c) {
    const Status status = detail::to_status(
        instance_.host->register_message(instance_.instance, to_str(message), c.function, c.user));
    if (status == Status::ok) return;
    std::string reason(to_string(status));
    if (status == Status::not_claimed) {
      reason = "the instance's `messages` list in the spoa-host config does not include it";
      if (has_messages()) {
        std::string list;
        for (std::string_view name : messages())
          list.append(list.empty() ? "" : ", ").append(name);
        reason += " (it has: " + list + ")";
      }
    } else if (status == Status::duplicate) {
      reason = "registered twice";
    } else if (reason.rfind("invalid-", 0) == 0) {
      reason = "the host answered status " + std::to_string(detail::to_abi(status));
    }
    throw Error("cannot register message '" + std::string(message) + "': " + reason);
  }

  Metric define(std::int32_t kind, std::string_view name, std::string_view help,
                std::initializer_list<std::string_view> labels, std::uint32_t max_series,
                std::vector<double> buckets) const {
    const spoa_host_api* h = instance_.host;
    if (!SPOA_HOST_HAS(h, define_metric))
      throw Error("spoa/plugin.hpp: the host has no plugin metrics; it needs ABI 1.1");
    std::vector<spoa_str> label_names;
    for (std::string_view l : labels)
      label_names.push_back(to_str(l));
    spoa_metric_desc desc{};
    desc.struct_size = sizeof desc;
    desc.kind = kind;
    desc.max_series = max_series;
    desc.name = to_str(name);
    desc.help = to_str(help);
    desc.label_names = label_names.empty() ? nullptr : label_names.data();
    desc.nlabels = label_names.size();
    desc.buckets = buckets.empty() ? nullptr : buckets.data();
    desc.nbuckets = buckets.size();
    spoa_metric* metric = nullptr;
    const Status status = detail::to_status(h->define_metric(instance_.instance, &desc, &metric));
    if (status != Status::ok)
      throw Error("cannot define metric '" + std::string(name) +
                  "': " + std::string(to_string(status)));
    return Metric(h, metric);
  }

  detail::InstanceBase& instance_;
  Config config_;
};

namespace detail {

template <class P>
class Instance final : public InstanceBase {
 public:
  using InstanceBase::InstanceBase;
  /* Declared after the handlers (in the base), so destroyed before them. */
  std::optional<P> plugin;
};

template <class P>
int init(const spoa_host_api* host, spoa_instance* instance, const spoa_config_entry* config,
         std::size_t nconfig, void** state, char* error, std::size_t error_size) noexcept {
  static_assert(std::is_constructible_v<P, InitContext&>,
                "a SPOA_PLUGIN class needs a constructor taking spoa::InitContext&");
  try {
    if (host == nullptr || state == nullptr) {
      write_error(error, error_size, "spoa/plugin.hpp: init() called without a host table");
      return 1;
    }
    if (host->abi_major != SPOA_ABI_MAJOR ||
        host->struct_size < offsetof(spoa_host_api, complete) + sizeof(host->complete)) {
      write_error(error, error_size,
                  "spoa/plugin.hpp: host function table of ABI " + std::to_string(host->abi_major) +
                      "." + std::to_string(host->abi_minor) + " is not compatible with ABI " +
                      std::to_string(SPOA_ABI_MAJOR) + "." + std::to_string(SPOA_ABI_MINOR));
      return 1;
    }
    auto holder = std::make_unique<Instance<P>>(host, instance);
    InitContext ctx(*holder, config, nconfig);
    holder->plugin.emplace(ctx);
    *state = holder.release();
    return 0;
  } catch (const std::exception& e) {
    write_error(error, error_size, e.what());
  } catch (...) {
    write_error(error, error_size, "an exception not derived from std::exception");
  }
  return 1;
}

template <class P>
void shutdown(void* state) noexcept {
  /* A destructor that throws terminates here (destructors are noexcept): catching would
   * not help, the plugin's state is already half torn down. */
  delete static_cast<Instance<P>*>(state);
}

template <class P>
const spoa_plugin_descriptor* descriptor(const char* name, const char* version,
                                         std::uint32_t required_minor = SPOA_ABI_MINOR) noexcept {
  static const spoa_plugin_descriptor d = {sizeof(spoa_plugin_descriptor),
                                           SPOA_ABI_MAJOR,
                                           required_minor,
                                           name,
                                           version,
                                           &init<P>,
                                           &shutdown<P>,
                                           SPOA_ABI_MINOR,
                                           0};
  return &d;
}

}  // namespace detail
}  // namespace spoa

/* Defines the entry symbol for the plugin class `Class`, which needs a constructor
 * `explicit Class(spoa::InitContext&)` and a destructor that stops everything it started.
 * `name` and `version` are string literals. Use once per .so, at namespace scope. (plugin.h
 * declares spoa_plugin_entry_v1, so the compiler checks this definition against it.) */
#define SPOA_PLUGIN(Class, name, version) \
  SPOA_PLUGIN_REQUIRING(Class, name, version, SPOA_ABI_MINOR)

/* SPOA_PLUGIN for a plugin that runs on hosts of an older minor too: `minor` is the
 * descriptor's abi_minor (plugin.h), the newest minor whose features the plugin uses
 * without checking. The wrapper's 1.1 calls check the host's table themselves (they answer
 * Status::unsupported, or throw Error during init, on an older table). */
#define SPOA_PLUGIN_REQUIRING(Class, name, version, minor)                                 \
  extern "C" SPOA_PLUGIN_EXPORT const spoa_plugin_descriptor* spoa_plugin_entry_v1(void) { \
    return ::spoa::detail::descriptor<Class>("" name, "" version, (minor));                \
  }

#endif /* SPOA_PLUGIN_HPP */
