// reload_v1.so / reload_v2.so: one source built twice (RELOAD_PLUGIN_VERSION = 1 or 2), so
// that a test can swap the file on disk and tell from an ACK which code really answered.
// Every message mapped to the instance gets two txn variables:
//   version (int32): the RELOAD_PLUGIN_VERSION this image was built with;
//   tag (string):    the instance's config key `tag` (default ""), to tell instances apart.
#include <spoa/plugin.hpp>

#include <string>

#ifndef RELOAD_PLUGIN_VERSION
#error "RELOAD_PLUGIN_VERSION must be defined by tests/ops/CMakeLists.txt"
#endif

namespace {

class Reload {
 public:
  explicit Reload(spoa::InitContext& ctx) {
    ctx.config().reject_unknown({"tag"});
    tag_ = std::string(ctx.config().get_or("tag", ""));
    ctx.on_each_claimed(this, &Reload::answer);
  }

  spoa::Result answer(const spoa::Message&, spoa::Reply& reply) const {
    if (reply.set(spoa::Scope::txn, "version", std::int32_t{RELOAD_PLUGIN_VERSION}) !=
            spoa::Status::ok ||
        reply.set(spoa::Scope::txn, "tag", tag_) != spoa::Status::ok) {
      return spoa::Result::failed;
    }
    return spoa::Result::done;
  }

 private:
  std::string tag_;
};

}  // namespace

#define RELOAD_STRINGIFY2(x) #x
#define RELOAD_STRINGIFY(x) RELOAD_STRINGIFY2(x)
SPOA_PLUGIN(Reload, "reload", RELOAD_STRINGIFY(RELOAD_PLUGIN_VERSION))
