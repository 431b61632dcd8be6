// spoa/plugin.hpp, the C++ wrapper, driven in-process through the fake host: a plugin class
// defined here is attached by its descriptor instead of being dlopen()ed.
#include <spoa/plugin.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "fake_host.hpp"

namespace {

using namespace std::chrono_literals;
using spoa::testing::Action;
using spoa::testing::FakeHost;
using V = spoa::testing::TypedValue;

Action txn(std::string name, V value) {
  return spoa::testing::set_var(SPOA_SCOPE_TXN, std::move(name), std::move(value));
}

// ---- compile-time contract of Reply::set -------------------------------------------------

template <class T>
concept Settable = requires(spoa::Reply& r, T v) {
  r.set(spoa::Scope::txn, "x", v);
};

static_assert(Settable<bool> && Settable<int> && Settable<unsigned long long> && Settable<int8_t> &&
              Settable<uint8_t> && Settable<const char*> && Settable<std::string> &&
              Settable<std::string_view> && Settable<spoa::Binary> && Settable<spoa::Ipv4> &&
              Settable<spoa::Ipv6> && Settable<std::nullptr_t> && Settable<spoa::Value> &&
              Settable<spoa::OwnedValue>);
// SPOP has no floating point; a char is more likely a bug than a number.
static_assert(!Settable<double> && !Settable<float> && !Settable<char> && !Settable<char8_t>);
static_assert(!std::is_copy_constructible_v<spoa::PendingRequest> &&
              std::is_nothrow_move_constructible_v<spoa::PendingRequest> &&
              std::is_nothrow_move_assignable_v<spoa::PendingRequest>);

// ---- a plugin exercising the wrapper ----------------------------------------------------

class Probe {
 public:
  explicit Probe(spoa::InitContext& ctx) : log_(ctx.logger()) {
    const spoa::Config& config = ctx.config();
    config.reject_unknown({"fail_with", "greeting", "list"});
    if (const auto reason = config.get("fail_with")) throw std::runtime_error(std::string(*reason));
    greeting_ = std::string(config.get_or("greeting", "hello"));
    list_size_ = config.get_list("list").size();

    ctx.on("types", this, &Probe::types);
    ctx.on("const_member", static_cast<const Probe*>(this), &Probe::const_member);
    ctx.on("void_lambda", [](const spoa::Message&, spoa::Reply& r) {
      r.set(spoa::Scope::sess, "from_void", true);
    });
    ctx.on("defer_twice", [](const spoa::Message&, spoa::Reply& r) {
      spoa::PendingRequest first = r.defer();
      spoa::PendingRequest second = r.defer();  // throws std::logic_error
      return spoa::Result::pending;
    });
    ctx.on("set_after_defer", [](const spoa::Message&, spoa::Reply& r) {
      spoa::PendingRequest p = r.defer();
      const spoa::Status refused = r.set(spoa::Scope::txn, "on_reply", 1);
      p.set(spoa::Scope::txn, "reply_refused", refused == spoa::Status::not_allowed);
      p.complete();
      return spoa::Result::pending;
    });
    ctx.on("async", [this](const spoa::Message& m, spoa::Reply& r) {
      spoa::OwnedValue kept(m.find("keep")->value());  // outlives the handler call
      threads_.emplace_back([kept, p = r.defer()]() mutable {
        std::this_thread::sleep_for(20ms);
        p.set(spoa::Scope::txn, "kept", kept);
        const spoa::Status first = p.complete(spoa::Result::done);
        const spoa::Status second = p.complete(spoa::Result::done);
        static_cast<void>(first);
        // The wrapper keeps the second call from ever reaching the host.
        if (second != spoa::Status::not_allowed) std::abort();
      });
      return spoa::Result::pending;
    });
    ctx.on("pending_moves", [](const spoa::Message&, spoa::Reply& r) {
      spoa::PendingRequest a = r.defer();
      spoa::PendingRequest b = std::move(a);
      b.set(spoa::Scope::txn, "moved_from_is_spent", !a.pending() && !a);
      b.set(spoa::Scope::txn, "complete_pending_refused",
            b.complete(spoa::Result::pending) == spoa::Status::invalid_argument);
      b.complete(spoa::Result::failed);
      return spoa::Result::pending;
    });
    ctx.on("invalid_result", [](const spoa::Message&, spoa::Reply&) {
      // Well defined (Result's underlying type is int32_t), but no Result.
      return static_cast<spoa::Result>(42);
    });
    ctx.on("out_of_range", [this](const spoa::Message&, spoa::Reply& r) {
      // The typed enums carry any int32_t to the host, which must refuse or clamp it.
      log_.log(static_cast<spoa::LogLevel>(77), "level 77");
      const spoa::Status scope = r.set(static_cast<spoa::Scope>(-3), "x", 1);
      r.set(spoa::Scope::txn, "scope_refused", scope == spoa::Status::invalid_argument);
      spoa::PendingRequest p = r.defer();
      p.set(spoa::Scope::txn, "complete_42_refused",
            p.complete(static_cast<spoa::Result>(42)) == spoa::Status::invalid_argument);
      p.complete(spoa::Result::done);
      return spoa::Result::pending;
    });
    ctx.on("config", [this](const spoa::Message&, spoa::Reply& r) {
      r.set(spoa::Scope::txn, "greeting", greeting_);
      r.set(spoa::Scope::txn, "list_size", list_size_);
      return spoa::Result::done;
    });
  }

  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;
  ~Probe() {
    for (auto& t : threads_)
      t.join();
  }

 private:
  spoa::Result types(const spoa::Message& m, spoa::Reply& r) {
    using spoa::Scope;
    r.set(Scope::txn, "b", true);
    r.set(Scope::txn, "i8", int8_t{-8});
    r.set(Scope::txn, "i16", int16_t{-16});
    r.set(Scope::txn, "i32", int32_t{-32});
    r.set(Scope::txn, "i64", int64_t{-64});
    r.set(Scope::txn, "ll", std::numeric_limits<long long>::min());
    r.set(Scope::txn, "u8", uint8_t{8});
    r.set(Scope::txn, "u16", uint16_t{16});
    r.set(Scope::txn, "u32", std::numeric_limits<uint32_t>::max());
    r.set(Scope::txn, "size", std::numeric_limits<size_t>::max());
    r.set(Scope::txn, "literal", "lit");
    r.set(Scope::txn, "std_string", std::string("str"));
    r.set(Scope::txn, "view", std::string_view("view"));
    r.set(Scope::txn, "bin", spoa::Binary{std::string_view("\0b", 2)});
    r.set(Scope::txn, "v4", spoa::Ipv4{{127, 0, 0, 1}});
    r.set(Scope::txn, "v6", spoa::Ipv6{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}});
    r.set(Scope::txn, "nothing", nullptr);
    r.set(Scope::req, "echo", m.args()[0].value());
    r.unset(Scope::res, "gone");
    return spoa::Result::done;
  }
  spoa::Result const_member(const spoa::Message& m, spoa::Reply&) const {
    log_.info("const member saw " + std::string(m.name()));
    return spoa::Result::done;
  }

  spoa::Logger log_;
  std::string greeting_;
  size_t list_size_ = 0;
  std::vector<std::thread> threads_;
};

const spoa_plugin_descriptor* probe() {
  return spoa::detail::descriptor<Probe>("probe", "1.2.3");
}

const std::vector<std::string> all_messages = {
    "types", "const_member",  "void_lambda",    "defer_twice",  "set_after_defer",
    "async", "pending_moves", "invalid_result", "out_of_range", "config"};

class PluginHpp : public ::testing::Test {
 protected:
  void start(const std::vector<std::pair<std::string, std::string>>& config = {}) {
    host.attach(probe());
    const auto error = host.init(config, all_messages);
    ASSERT_FALSE(error) << *error;
  }
  FakeHost host;
};

TEST_F(PluginHpp, DescriptorCarriesNameVersionAndTheHeadersAbi) {
  const spoa_plugin_descriptor* d = probe();
  EXPECT_EQ(d, probe()) << "one static descriptor";
  EXPECT_EQ(d->struct_size, sizeof(spoa_plugin_descriptor));
  EXPECT_EQ(d->abi_major, static_cast<uint32_t>(SPOA_ABI_MAJOR));
  EXPECT_EQ(d->abi_minor, static_cast<uint32_t>(SPOA_ABI_MINOR));
  EXPECT_STREQ(d->name, "probe");
  EXPECT_STREQ(d->version, "1.2.3");
  EXPECT_NE(d->shutdown, nullptr);
}

TEST_F(PluginHpp, SetPicksTheSpopTypeFromTheCxxType) {
  start();
  const auto r = host.request(host.call("types", {{"in", V::uint64(5)}}));
  EXPECT_EQ(r.handler_return, SPOA_DONE);
  const std::vector<Action> expected = {
      txn("b", V::boolean(true)),
      txn("i8", V::int32(-8)),
      txn("i16", V::int32(-16)),
      txn("i32", V::int32(-32)),
      txn("i64", V::int64(-64)),
      txn("ll", V::int64(std::numeric_limits<int64_t>::min())),
      txn("u8", V::uint32(8)),
      txn("u16", V::uint32(16)),
      txn("u32", V::uint32(std::numeric_limits<uint32_t>::max())),
      txn("size", V::uint64(std::numeric_limits<uint64_t>::max())),
      txn("literal", V::string("lit")),
      txn("std_string", V::string("str")),
      txn("view", V::string("view")),
      txn("bin", V::binary(std::string("\0b", 2))),
      txn("v4", V::ipv4("127.0.0.1")),
      txn("v6", V::ipv6("::1")),
      txn("nothing", V::null()),
      spoa::testing::set_var(SPOA_SCOPE_REQ, "echo", V::uint64(5)),
      spoa::testing::unset_var(SPOA_SCOPE_RES, "gone"),
  };
  EXPECT_EQ(r.actions, expected);
}

TEST_F(PluginHpp, ConstMemberFunctionsAndVoidLambdasAreHandlers) {
  start();
  EXPECT_EQ(host.call_and_return("const_member", {}), SPOA_DONE);
  EXPECT_TRUE(host.logged(SPOA_LOG_INFO, "const member saw const_member"));
  const auto r = host.request(host.call("void_lambda", {}));
  EXPECT_EQ(r.handler_return, SPOA_DONE);
  EXPECT_EQ(r.actions, (std::vector<Action>{spoa::testing::set_var(SPOA_SCOPE_SESS, "from_void",
                                                                   V::boolean(true))}));
}

TEST_F(PluginHpp, ConfigIsReadDuringConstruction) {
  start({{"greeting", "bonjour"}, {"list", " a, b ,,c "}});
  const auto r = host.request(host.call("config", {}));
  EXPECT_EQ(r.actions, (std::vector<Action>{txn("greeting", V::string("bonjour")),
                                            txn("list_size", V::uint64(3))}));
}

TEST_F(PluginHpp, ConstructorExceptionFailsInitWithItsWhat) {
  host.attach(probe());
  const auto error = host.init({{"fail_with", "no database at /var/db"}}, all_messages);
  ASSERT_TRUE(error);
  EXPECT_EQ(*error, "no database at /var/db");
}

TEST_F(PluginHpp, UnknownConfigKeyFailsInitListingTheKnownOnes) {
  host.attach(probe());
  const auto error = host.init({{"greting", "x"}}, all_messages);
  ASSERT_TRUE(error);
  EXPECT_EQ(*error, "unknown config key 'greting' (known keys: fail_with greeting list)");
}

TEST_F(PluginHpp, RefusedRegistrationFailsInitNamingTheMessage) {
  host.attach(probe());
  const auto error = host.init({}, {"types"});
  ASSERT_TRUE(error);
  EXPECT_EQ(*error,
            "cannot register message 'const_member': the instance's `messages` list in the "
            "spoa-host config does not include it (it has: types)");
}

TEST_F(PluginHpp, InitErrorIsTruncatedToTheBufferAndNulTerminated) {
  FakeHost table_owner;  // only for its function table and instance handle
  const std::string config_key = "fail_with";
  const std::string config_value = "a reason longer than the buffer";
  const spoa_config_entry entry = {{config_key.c_str(), config_key.size()},
                                   {config_value.c_str(), config_value.size()}};
  char error[8];
  std::memset(error, 'x', sizeof error);
  void* state = nullptr;
  EXPECT_NE(probe()->init(&table_owner.table(), table_owner.instance_handle(), &entry, 1, &state,
                          error, sizeof error),
            0);
  EXPECT_STREQ(error, "a reaso");
}

TEST_F(PluginHpp, InitRefusesAHostTableOfAnotherMajor) {
  FakeHost table_owner;
  spoa_host_api other = table_owner.table();
  other.abi_major = SPOA_ABI_MAJOR + 1;
  char error[256] = {};
  void* state = nullptr;
  EXPECT_NE(
      probe()->init(&other, table_owner.instance_handle(), nullptr, 0, &state, error, sizeof error),
      0);
  EXPECT_NE(std::string(error).find("not compatible"), std::string::npos) << error;
}

TEST_F(PluginHpp, DeferTwiceThrowsAndTheFirstRequestAnswersFailed) {
  start();
  const auto r = host.request(host.call("defer_twice", {}));
  EXPECT_EQ(r.handler_return, SPOA_PENDING);
  EXPECT_EQ(r.completion, SPOA_FAILED);
  EXPECT_TRUE(
      host.logged(SPOA_LOG_ERROR, "threw std::logic_error: spoa::Reply::defer() called twice"));
}

TEST_F(PluginHpp, ReplyRefusesSetOnceDeferred) {
  start();
  const auto r = host.request(host.call("set_after_defer", {}));
  EXPECT_EQ(r.outcome(), SPOA_DONE);
  EXPECT_EQ(r.actions, std::vector<Action>{txn("reply_refused", V::boolean(true))});
}

TEST_F(PluginHpp, PendingRequestCompletesOnceFromAnotherThreadWithAnOwnedCopy) {
  start();
  const uint64_t id = host.call("async", {{"keep", V::string(std::string(100, 'k'))}});
  ASSERT_TRUE(host.wait_finished(id, 2s));
  const auto r = host.request(id);
  EXPECT_EQ(r.outcome(), SPOA_DONE);
  EXPECT_EQ(r.complete_calls, 1);
  EXPECT_NE(r.complete_thread, r.handler_thread);
  EXPECT_EQ(r.actions, std::vector<Action>{txn("kept", V::string(std::string(100, 'k')))});
}

TEST_F(PluginHpp, PendingRequestMovesAndRefusesAPendingResult) {
  start();
  const auto r = host.request(host.call("pending_moves", {}));
  EXPECT_EQ(r.outcome(), SPOA_FAILED);
  EXPECT_EQ(r.complete_calls, 1);
  EXPECT_EQ(r.actions, (std::vector<Action>{txn("moved_from_is_spent", V::boolean(true)),
                                            txn("complete_pending_refused", V::boolean(true))}));
}

TEST_F(PluginHpp, AHandlerReturningNoResultAnswersFailed) {
  start();
  EXPECT_EQ(host.call_and_return("invalid_result", {}), SPOA_FAILED);
  EXPECT_TRUE(host.logged(SPOA_LOG_ERROR,
                          "handler for message 'invalid_result' returned an invalid spoa::Result"));
}

TEST_F(PluginHpp, OutOfRangeEnumsCrossTheBoundaryAsInt32) {
  start();
  const auto r = host.request(host.call("out_of_range", {}));
  EXPECT_EQ(r.outcome(), SPOA_DONE);
  EXPECT_EQ(r.complete_calls, 1);
  EXPECT_EQ(r.completion_value, SPOA_DONE);
  EXPECT_EQ(r.actions, (std::vector<Action>{txn("scope_refused", V::boolean(true)),
                                            txn("complete_42_refused", V::boolean(true))}));
  bool seen = false;
  for (const auto& line : host.logs())
    seen = seen || (line.level == 77 && line.text == "level 77");
  EXPECT_TRUE(seen);
}

TEST_F(PluginHpp, ShutdownDestroysThePluginAfterItsThreads) {
  start();
  host.call("async", {{"keep", V::int32(1)}});
  host.shutdown();
  EXPECT_TRUE(host.violations().empty());
}

// ---- the instance's messages: InitContext::messages() and on_each_claimed() ------------------

// Config `mode`: "all" (default) claims every message with on_each_claimed(); "member"
// the same through a member function; "only" claims the comma list of config `only`;
// "none" claims nothing. Each handler sets txn.message and txn.seen (the names
// messages() returned at construction, comma-joined).
class Claimer {
 public:
  explicit Claimer(spoa::InitContext& ctx) {
    const spoa::Config& config = ctx.config();
    config.reject_unknown({"mode", "only"});
    for (std::string_view name : ctx.messages())
      seen_.append(seen_.empty() ? "" : ",").append(name);
    const std::string_view mode = config.get_or("mode", "all");
    auto handler = [this](const spoa::Message& m, spoa::Reply& r) { return answer(m, r); };
    if (mode == "all") {
      ctx.on_each_claimed(handler);
    } else if (mode == "member") {
      ctx.on_each_claimed(static_cast<const Claimer*>(this), &Claimer::answer);
    } else if (mode == "only") {
      ctx.on_each_claimed(config.get_list("only"), handler);
    }
  }

 private:
  spoa::Result answer(const spoa::Message& m, spoa::Reply& r) const {
    r.set(spoa::Scope::txn, "message", m.name());
    r.set(spoa::Scope::txn, "seen", seen_);
    return spoa::Result::done;
  }

  std::string seen_;
};

const spoa_plugin_descriptor* claimer() {
  return spoa::detail::descriptor<Claimer>("claimer", "1.0.0");
}

class InstanceMessages : public ::testing::Test {
 protected:
  std::optional<std::string> start(const std::vector<std::pair<std::string, std::string>>& config,
                                   const std::vector<std::string>& claimed) {
    host.attach(claimer());
    return host.init(config, claimed);
  }
  FakeHost host;
};

TEST_F(InstanceMessages, AskingForMessagesClaimsNothingByItself) {
  ASSERT_FALSE(start({{"mode", "none"}}, {"b", "a", "check-ip"}));
  EXPECT_GE(host.claimed_messages_calls(), 1);
  EXPECT_TRUE(host.registered_messages().empty());
}

TEST_F(InstanceMessages, OnEachClaimedRegistersEveryClaimedMessageWithOneHandler) {
  for (const char* mode : {"all", "member"}) {
    FakeHost h;
    h.attach(claimer());
    ASSERT_FALSE(h.init({{"mode", mode}}, {"b", "a", "check-ip"})) << mode;
    EXPECT_EQ(h.registered_messages(), (std::vector<std::string>{"a", "b", "check-ip"})) << mode;
    const auto r = h.request(h.call("check-ip", {}));
    EXPECT_EQ(r.actions, (std::vector<Action>{txn("message", V::string("check-ip")),
                                              txn("seen", V::string("b,a,check-ip"))}))
        << mode;
  }
}

TEST_F(InstanceMessages, OnEachClaimedWithASubsetRegistersOnlyThose) {
  ASSERT_FALSE(start({{"mode", "only"}, {"only", "a, c"}}, {"a", "b", "c"}));
  EXPECT_EQ(host.registered_messages(), (std::vector<std::string>{"a", "c"}));
}

TEST_F(InstanceMessages, ASubsetNameTheInstanceIsNotGivenFailsInitListingTheClaimedOnes) {
  const auto error = start({{"mode", "only"}, {"only", "a, typo"}}, {"a", "b"});
  ASSERT_TRUE(error);
  EXPECT_EQ(*error,
            "cannot register message 'typo': the instance's `messages` list in the spoa-host "
            "config does not include it (it has: a, b)");
}

TEST_F(InstanceMessages, AnEmptySubsetFailsInit) {
  const auto error = start({{"mode", "only"}, {"only", " , "}}, {"a"});
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("empty list of messages"), std::string::npos) << *error;
}

TEST_F(InstanceMessages, AHostTableWithoutClaimedMessagesFailsInitSayingSo) {
  host.set_table_size(offsetof(spoa_host_api, claimed_messages));
  const auto error = start({}, {"a"});
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("no claimed_messages()"), std::string::npos) << *error;
  EXPECT_EQ(host.claimed_messages_calls(), 0);
}

TEST_F(InstanceMessages, ATableEndingAtCompleteStillRunsPluginsThatDoNotAsk) {
  // plugin.hpp needs the table up to complete(); claimed_messages() only when asked for.
  host.set_table_size(offsetof(spoa_host_api, complete) + sizeof(spoa_host_api::complete));
  host.attach(probe());
  EXPECT_FALSE(host.init({}, all_messages));
}

// ---- values ------------------------------------------------------------------------------

TEST(PluginHppValue, IntegerAccessorsTakeAnyIntegerTypeThatFits) {
  const V i32 = V::int32(-5), u32 = V::uint32(7), i64max = V::int64(INT64_MAX),
          u64max = V::uint64(UINT64_MAX), str = V::string("5");
  const spoa_value a = i32.view(), b = u32.view(), c = i64max.view(), d = u64max.view(),
                   e = str.view();
  EXPECT_EQ(spoa::Value(a).as_int64(), -5);
  EXPECT_EQ(spoa::Value(a).as_int32(), -5);
  EXPECT_EQ(spoa::Value(a).as_uint64(), std::nullopt);
  EXPECT_EQ(spoa::Value(b).as_int32(), 7);
  EXPECT_EQ(spoa::Value(b).as_uint64(), 7u);
  EXPECT_EQ(spoa::Value(c).as_int64(), INT64_MAX);
  EXPECT_EQ(spoa::Value(c).as_uint64(), static_cast<uint64_t>(INT64_MAX));
  EXPECT_EQ(spoa::Value(c).as_int32(), std::nullopt);
  EXPECT_EQ(spoa::Value(c).as_uint32(), std::nullopt);
  EXPECT_EQ(spoa::Value(d).as_int64(), std::nullopt);
  EXPECT_EQ(spoa::Value(d).as_uint64(), UINT64_MAX);
  EXPECT_EQ(spoa::Value(e).as_int64(), std::nullopt);
  EXPECT_TRUE(spoa::Value(a).is_integer());
  EXPECT_FALSE(spoa::Value(e).is_integer());
}

TEST(PluginHppValue, TypedAccessorsAnswerOnlyForTheirType) {
  const V s = V::string("text"), b = V::binary(std::string("\0\1", 2)), t = V::boolean(true),
          v4 = V::ipv4("10.1.2.3"), v6 = V::ipv6("fe80::1"), n = V::null(), empty = V::string("");
  const spoa_value vs = s.view(), vb = b.view(), vt = t.view(), v4v = v4.view(), v6v = v6.view(),
                   vn = n.view(), ve = empty.view();
  EXPECT_EQ(spoa::Value(vs).as_string(), "text");
  EXPECT_EQ(spoa::Value(vs).as_binary(), std::nullopt);
  EXPECT_EQ(spoa::Value(vs).as_bytes(), "text");
  EXPECT_EQ(spoa::Value(vb).as_string(), std::nullopt);
  EXPECT_EQ(spoa::Value(vb).as_binary(), std::string_view("\0\1", 2));
  EXPECT_EQ(spoa::Value(vb).as_bytes(), std::string_view("\0\1", 2));
  EXPECT_EQ(spoa::Value(vt).as_bool(), true);
  EXPECT_EQ(spoa::Value(vs).as_bool(), std::nullopt);
  EXPECT_EQ(spoa::Value(v4v).as_ipv4(), (spoa::Ipv4{{10, 1, 2, 3}}));
  EXPECT_EQ(spoa::Value(v4v).as_ipv6(), std::nullopt);
  EXPECT_EQ(spoa::Value(v6v).as_ipv6()->bytes[0], 0xfe);
  EXPECT_TRUE(spoa::Value(vn).is_null());
  EXPECT_EQ(spoa::Value(vn).type(), spoa::Type::null);
  EXPECT_EQ(spoa::Value(ve).as_string(), "");

  spoa_value null_bytes{};
  null_bytes.type = SPOA_TYPE_STRING;  // ptr NULL, len 0: allowed by plugin.h
  EXPECT_EQ(spoa::Value(null_bytes).as_string(), "");
}

TEST(PluginHppValue, ArgsFindTheFirstArgumentWithAName) {
  const V one = V::int32(1), two = V::int32(2);
  const spoa_arg args[] = {{{"", 0}, one.view(), 0, 0, 0},
                           {{"x", 1}, one.view(), 0, 0, 0},
                           {{"x", 1}, two.view(), 0, 0, 0}};
  const spoa::Message m(spoa_str{"msg", 3}, args, 3);
  EXPECT_EQ(m.name(), "msg");
  EXPECT_EQ(m.args().size(), 3u);
  EXPECT_EQ(m.find("x")->as_int32(), 1);
  EXPECT_FALSE(m.find("y"));
  int count = 0;
  for (const spoa::Arg a : m.args())
    count += a.name().empty() ? 0 : 1;
  EXPECT_EQ(count, 2);
  const spoa::Message none(spoa_str{"m", 1}, nullptr, 0);
  EXPECT_TRUE(none.args().empty());
  EXPECT_EQ(none.args().begin(), none.args().end());
}

TEST(PluginHppValue, OwnedValueKeepsItsBytesThroughCopiesAndMoves) {
  for (const std::string& text : {std::string("short"), std::string(200, 'L')}) {
    std::optional<spoa::OwnedValue> original;
    {
      V source = V::binary(text);
      const spoa_value view = source.view();
      original.emplace(spoa::Value(view));
    }  // the borrowed bytes are gone
    spoa::OwnedValue copy = *original;
    spoa::OwnedValue moved = std::move(*original);
    original.reset();
    spoa::OwnedValue assigned;
    assigned = copy;
    spoa::OwnedValue move_assigned;
    move_assigned = std::move(copy);
    EXPECT_EQ(moved.value().as_binary(), text);
    EXPECT_EQ(assigned.value().as_binary(), text);
    EXPECT_EQ(move_assigned.value().as_binary(), text);
    EXPECT_EQ(move_assigned.type(), spoa::Type::binary);
  }
  EXPECT_TRUE(spoa::OwnedValue().value().is_null());
}

// ---- helpers -----------------------------------------------------------------------------

TEST(PluginHppHelpers, ParseDurationTakesTheConfigUnits) {
  using std::chrono::nanoseconds;
  EXPECT_EQ(spoa::parse_duration("100ms"), nanoseconds(100ms));
  EXPECT_EQ(spoa::parse_duration("5s"), nanoseconds(5s));
  EXPECT_EQ(spoa::parse_duration("10m"), nanoseconds(10min));
  EXPECT_EQ(spoa::parse_duration("2h"), nanoseconds(2h));
  EXPECT_EQ(spoa::parse_duration("7us"), nanoseconds(7us));
  EXPECT_EQ(spoa::parse_duration("9ns"), nanoseconds(9));
  EXPECT_EQ(spoa::parse_duration("0"), nanoseconds(0));
  EXPECT_EQ(spoa::parse_duration("10"), std::nullopt);
  EXPECT_EQ(spoa::parse_duration("ms"), std::nullopt);
  EXPECT_EQ(spoa::parse_duration("1.5s"), std::nullopt);
  EXPECT_EQ(spoa::parse_duration("-1s"), std::nullopt);
  EXPECT_EQ(spoa::parse_duration("10 s"), std::nullopt);
  EXPECT_EQ(spoa::parse_duration("99999999999999999999s"), std::nullopt);
  EXPECT_EQ(spoa::parse_duration("9999999999h"), std::nullopt);
}

TEST(PluginHppHelpers, ScopesParseAndPrintAsInHaproxyCfg) {
  for (const auto s :
       {spoa::Scope::proc, spoa::Scope::sess, spoa::Scope::txn, spoa::Scope::req, spoa::Scope::res})
    EXPECT_EQ(spoa::parse_scope(spoa::to_string(s)), s);
  EXPECT_EQ(spoa::parse_scope("TXN"), std::nullopt);
  static_assert(spoa::parse_scope("res") == spoa::Scope::res);
}

TEST(PluginHppHelpers, SplitListTrimsAndDropsEmptyItems) {
  EXPECT_EQ(spoa::Config::split_list(" a,b ,, c\t,"),
            (std::vector<std::string_view>{"a", "b", "c"}));
  EXPECT_TRUE(spoa::Config::split_list("").empty());
}

TEST(PluginHppHelpers, DefaultLoggerDropsLines) {
  spoa::Logger().error("nowhere");  // must not crash
}

}  // namespace
