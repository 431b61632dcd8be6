// Out-of-tree C++ plugin: the same behaviour as greeter.c, written with plugin.hpp.
#include <spoa/plugin.hpp>

namespace {

class Greeter {
 public:
  explicit Greeter(spoa::InitContext& ctx) {
    ctx.config().reject_unknown({});
    ctx.on_each_claimed([](const spoa::Message& m, spoa::Reply& r) {
      r.set(spoa::Scope::txn, "greeting", "hello");
      if (const auto ip = m.find("ip"); ip && (ip->as_ipv4() || ip->as_ipv6()))
        r.set(spoa::Scope::txn, "ip_seen", true);
      return spoa::Result::done;
    });
  }
};

}  // namespace

SPOA_PLUGIN(Greeter, "greeter-cpp", "1.0")
