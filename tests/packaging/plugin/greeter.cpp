// Out-of-tree test plugin, C++ through spoa/plugin.hpp: answers the message "greet" with
// txn.greeting = the config's `greeting` (default "hello").
#include <spoa/plugin.hpp>

#include <string>

class Greeter {
 public:
  explicit Greeter(spoa::InitContext& ctx) {
    ctx.config().reject_unknown({"greeting"});
    greeting_ = std::string(ctx.config().get_or("greeting", "hello"));
    ctx.on("greet", this, &Greeter::greet);
  }

  spoa::Result greet(const spoa::Message&, spoa::Reply& reply) const {
    reply.set(spoa::Scope::txn, "greeting", greeting_);
    return spoa::Result::done;
  }

 private:
  std::string greeting_;
};

SPOA_PLUGIN(Greeter, "greeter", "1.0.0")
