// Compiled, never run: plugin.hpp under C++17 (its minimum) and C++20 with warnings stricter
// than the project's, since plugin authors bring their own flags. Every template of the
// header is instantiated here.
#include <spoa/plugin.hpp>

#include <cstdint>
#include <string>

namespace {

class Strict {
 public:
  explicit Strict(spoa::InitContext& ctx) : log_(ctx.logger()) {
    ctx.config().reject_unknown({"a"});
    ctx.on("member", this, &Strict::member);
    ctx.on("const_member", static_cast<const Strict*>(this), &Strict::const_member);
    ctx.on("lambda", [](const spoa::Message& m, spoa::Reply& r) {
      r.set(spoa::Scope::txn, "s", m.name());
      return spoa::Result::done;
    });
    ctx.on("void", [](const spoa::Message&, spoa::Reply& r) { r.unset(spoa::Scope::req, "x"); });
    const spoa::CHandler raw =
        ctx.wrap([](const spoa::Message&, spoa::Reply&) { return spoa::Result::failed; });
    static_cast<void>(raw);
  }

 private:
  spoa::Result member(const spoa::Message& m, spoa::Reply& r) {
    for (const spoa::Arg a : m.args()) {
      r.set(spoa::Scope::txn, a.name(), a.value());
      r.set(spoa::Scope::txn, "i64", a.as_int64().value_or(0));
      r.set(spoa::Scope::txn, "u64", a.as_uint64().value_or(0u));
      r.set(spoa::Scope::txn, "i32", a.as_int32().value_or(0));
      r.set(spoa::Scope::txn, "u32", a.as_uint32().value_or(0u));
      r.set(spoa::Scope::txn, "i8", std::int8_t{1});
      r.set(spoa::Scope::txn, "u16", std::uint16_t{1});
      r.set(spoa::Scope::txn, "b", a.as_bool().value_or(false));
      r.set(spoa::Scope::txn, "str", a.as_string().value_or(""));
      r.set(spoa::Scope::txn, "bin", spoa::Binary{a.as_binary().value_or("")});
      r.set(spoa::Scope::txn, "cstr", "literal");
      r.set(spoa::Scope::txn, "string", std::string("s"));
      r.set(spoa::Scope::txn, "null", nullptr);
      if (const auto ip = a.as_ipv4()) r.set(spoa::Scope::txn, "v4", *ip);
      if (const auto ip = a.as_ipv6()) r.set(spoa::Scope::txn, "v6", *ip);
      r.set(spoa::Scope::txn, "owned", spoa::OwnedValue(a.value()));
    }
    spoa::PendingRequest p = r.defer();
    p.set(spoa::Scope::txn, "late", 1);
    p.complete();
    return spoa::Result::pending;
  }
  spoa::Result const_member(const spoa::Message&, spoa::Reply&) const {
    log_.debug("const");
    return spoa::Result::done;
  }

  spoa::Logger log_;
};

}  // namespace

SPOA_PLUGIN(Strict, "strict", "0.0.0")
