// echo: the conformance plugin. Every named argument comes back as a variable of the same
// name, type and value, so a test can prove each SPOP type survives HAProxy -> agent ->
// HAProxy unchanged.
#include <spoa/plugin.hpp>

#include <string>
#include <string_view>

namespace {

class Echo {
 public:
  explicit Echo(spoa::InitContext& ctx) : log_(ctx.logger()) {
    const spoa::Config& config = ctx.config();
    config.reject_unknown({"scope", "messages"});

    const std::string_view scope = config.get_or("scope", "txn");
    const auto parsed = spoa::parse_scope(scope);
    if (!parsed)
      throw spoa::Error("config key 'scope': '" + std::string(scope) +
                        "' is not one of proc, sess, txn, req, res");
    scope_ = *parsed;

    // Answers every message the spoa-host config maps to this instance; the optional
    // `messages` key narrows that to some of them.
    if (config.contains("messages")) {
      const auto only = config.get_list("messages");
      if (only.empty()) throw spoa::Error("config key 'messages': no message name");
      ctx.on_each_claimed(only,
                          [this](const spoa::Message& m, spoa::Reply& r) { return answer(m, r); });
    } else {
      ctx.on_each_claimed(this, &Echo::answer);
    }
  }

  spoa::Result answer(const spoa::Message& message, spoa::Reply& reply) const {
    for (const spoa::Arg arg : message.args()) {
      if (arg.name().empty()) continue;
      const spoa::Status status = reply.set(scope_, arg.name(), arg.value());
      switch (status) {
        case spoa::Status::ok:
          break;
        case spoa::Status::bad_name:
          // HAProxy argument names are free text; variable names are not.
          log_.debug("message '" + std::string(message.name()) + "': argument '" +
                     std::string(arg.name()) + "' is not a legal variable name, skipped");
          break;
        case spoa::Status::too_big:
          // Smaller arguments after this one may still fit the frame.
          log_.warn("message '" + std::string(message.name()) + "': argument '" +
                    std::string(arg.name()) + "' does not fit the frame, skipped");
          break;
        default:
          log_.error("message '" + std::string(message.name()) + "': set_var('" +
                     std::string(arg.name()) + "') failed: " + std::string(to_string(status)));
          return spoa::Result::failed;
      }
    }
    return spoa::Result::done;
  }

 private:
  spoa::Logger log_;
  spoa::Scope scope_ = spoa::Scope::txn;
};

}  // namespace

SPOA_PLUGIN(Echo, "echo", SPOA_ECHO_VERSION)
