// The request state machine behind the real host table (host_api()), without a server:
// handles are slot + generation and reused oldest first, a sealed request refuses every
// late call (from plugin threads too: run under TSan, none of it may race), the abandonment
// callback runs once, and a pool's full queue refuses at once.
#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "host/execution_pool.hpp"
#include "host/plugin_instance.hpp"
#include "host/request.hpp"

namespace spoa::host {
namespace {

// The home thread is the test's: posts are queued and delivered by hand.
class ManualQueue final : public CompletionQueue {
 public:
  void post_completion(Request& request, uint64_t generation) override {
    std::lock_guard lock(mutex_);
    posted_.emplace_back(&request, generation);
  }
  size_t posted() {
    std::lock_guard lock(mutex_);
    return posted_.size();
  }

 private:
  std::mutex mutex_;
  std::deque<std::pair<Request*, uint64_t>> posted_;
};

spoa_value boolean(bool v) {
  spoa_value value{};
  value.type = SPOA_TYPE_BOOL;
  value.u.boolean = v ? 1 : 0;
  return value;
}

const spoa_str name_x{"x", 1};

struct Fixture : ::testing::Test {
  ManualQueue home;
  RequestPool pool{home};
  const RouteName* route = intern_route_name("unit", "msg");
  const spoa_host_api& api = host_api();

  Request& fresh() {
    Request* r = pool.acquire(route);
    r->action_limit = 1u << 20;
    return *r;
  }
};

TEST_F(Fixture, AHandleIsASlotAndAGenerationNotAnAddress) {
  Request& r = fresh();
  const auto value = reinterpret_cast<uintptr_t>(r.handle());
  EXPECT_EQ(value >> Request::generation_bits, uint64_t{r.slot()} + 1);
  EXPECT_EQ(value & Request::generation_mask, r.generation());
  uint64_t generation = 0;
  EXPECT_EQ(Request::resolve(r.handle(), generation), &r);
  EXPECT_EQ(Request::resolve(reinterpret_cast<spoa_request*>(uintptr_t{12345}), generation),
            nullptr);
  EXPECT_EQ(Request::resolve(nullptr, generation), nullptr);
  pool.release(r);
}

TEST_F(Fixture, FreeRequestsAreReusedOldestFirst) {
  Request& a = fresh();
  Request& b = fresh();
  Request& c = fresh();
  pool.release(a);
  pool.release(b);
  pool.release(c);
  EXPECT_EQ(&fresh(), &a);
  EXPECT_EQ(&fresh(), &b);
  EXPECT_EQ(&fresh(), &c);
}

TEST_F(Fixture, AStaleHandleNeverReachesTheRequestThatReusedItsSlot) {
  Request& first = fresh();
  spoa_request* old = first.handle();
  first.handler_returned(SPOA_DONE);
  pool.release(first);
  Request& second = fresh();  // the same slot: it was the only free one
  ASSERT_EQ(&second, &first);
  const spoa_value v = boolean(true);
  EXPECT_EQ(api.set_var(old, SPOA_SCOPE_TXN, name_x, &v), SPOA_ERR_NOT_ALLOWED);
  EXPECT_EQ(api.complete(old, SPOA_DONE), SPOA_ERR_NOT_ALLOWED);
  EXPECT_TRUE(second.actions.empty());
  EXPECT_EQ(second.state().phase(), Phase::running);
  pool.release(second);
}

TEST_F(Fixture, EveryLateCallFromAPluginThreadAfterDoneIsRefused) {
  Request& r = fresh();
  spoa_request* handle = r.handle();
  {
    const HandlerScope scope(r);
    const spoa_value v = boolean(true);
    ASSERT_EQ(api.set_var(handle, SPOA_SCOPE_TXN, name_x, &v), SPOA_OK);
  }
  ASSERT_EQ(r.handler_returned(SPOA_DONE).phase(), Phase::done);
  std::vector<int32_t> results;
  std::thread plugin([&] {
    const spoa_value v = boolean(false);
    results.push_back(api.set_var(handle, SPOA_SCOPE_TXN, name_x, &v));
    results.push_back(api.unset_var(handle, SPOA_SCOPE_TXN, name_x));
    results.push_back(api.complete(handle, SPOA_DONE));
    results.push_back(api.on_abandon(
        handle, [](void*, spoa_request*) {}, nullptr));
    results.push_back(api.request_abandoned(handle));
  });
  // Meanwhile the home thread reads the actions, as building the ACK does.
  const size_t size = r.actions.size();
  plugin.join();
  EXPECT_EQ(results, (std::vector<int32_t>{SPOA_ERR_NOT_ALLOWED, SPOA_ERR_NOT_ALLOWED,
                                           SPOA_ERR_NOT_ALLOWED, SPOA_ERR_NOT_ALLOWED, 1}));
  EXPECT_EQ(r.actions.size(), size);
  EXPECT_EQ(home.posted(), 0u);
  EXPECT_TRUE(r.finish_host_side().plugin_done());
  pool.release(r);
}

TEST_F(Fixture, APendingRequestTakesActionsFromPluginThreadsUntilCompleteThenNone) {
  Request& r = fresh();
  spoa_request* handle = r.handle();
  ASSERT_EQ(r.handler_returned(SPOA_PENDING).phase(), Phase::pending);
  std::atomic<bool> completed{false};
  std::atomic<int> accepted{0};
  std::atomic<int> refused{0};
  std::thread writer([&] {
    const spoa_value v = boolean(true);
    for (int i = 0; i < 2000; ++i) {
      const int32_t status = api.set_var(handle, SPOA_SCOPE_TXN, name_x, &v);
      if (status == SPOA_OK) {
        EXPECT_FALSE(completed.load()) << "an action after complete() returned";
        ++accepted;
      } else {
        EXPECT_EQ(status, SPOA_ERR_NOT_ALLOWED);
        ++refused;
      }
    }
  });
  std::thread completer([&] {
    std::this_thread::yield();
    EXPECT_EQ(api.complete(handle, SPOA_DONE), SPOA_OK);
    completed = true;
    EXPECT_EQ(api.complete(handle, SPOA_DONE), SPOA_ERR_NOT_ALLOWED);
  });
  completer.join();
  writer.join();
  // Delivered on the home thread: the actions read here are exactly the accepted ones.
  EXPECT_EQ(home.posted(), 1u);
  EXPECT_EQ(r.state().phase(), Phase::done);
  EXPECT_EQ(static_cast<int>(r.set_vars), accepted.load());
  EXPECT_EQ(accepted + refused, 2000);
  EXPECT_TRUE(r.finish_host_side().plugin_done());
  pool.release(r);
}

TEST_F(Fixture, TheAbandonCallbackRunsOnceAndTheOwedCompleteIsRefusedButFreesIt) {
  Request& r = fresh();
  spoa_request* handle = r.handle();
  static std::atomic<int> calls{0};
  calls = 0;
  ASSERT_EQ(api.on_abandon(
                handle, [](void*, spoa_request*) { ++calls; }, nullptr),
            SPOA_OK);
  ASSERT_EQ(r.handler_returned(SPOA_PENDING).phase(), Phase::pending);
  EXPECT_EQ(api.request_abandoned(handle), 0);
  const Request::State after = r.abandon();
  EXPECT_EQ(after.phase(), Phase::abandoned);
  EXPECT_FALSE(after.plugin_done());
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(r.abandon().phase(), Phase::abandoned);
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(api.request_abandoned(handle), 1);
  const spoa_value v = boolean(true);
  std::thread plugin([&] {
    EXPECT_EQ(api.set_var(handle, SPOA_SCOPE_TXN, name_x, &v), SPOA_ERR_NOT_ALLOWED);
    EXPECT_EQ(api.complete(handle, SPOA_DONE), SPOA_ERR_NOT_ALLOWED);
    EXPECT_EQ(api.complete(handle, SPOA_DONE), SPOA_ERR_NOT_ALLOWED);
  });
  plugin.join();
  // The owed complete() made both sides done: the release goes home.
  EXPECT_TRUE(r.state().plugin_done());
  EXPECT_EQ(home.posted(), 1u);
  deliver(r, r.generation());
  EXPECT_EQ(r.state().phase(), Phase::idle);
}

TEST_F(Fixture, RequestContextIsOnlyAvailableDuringTheHandler) {
  Request& r = fresh();
  RequestFacts facts{7, 3, std::chrono::steady_clock::now(), "engine", "peer", true};
  r.facts = &facts;
  spoa_request_context context{};
  context.struct_size = sizeof context;
  EXPECT_EQ(api.request_context(r.handle(), &context), SPOA_ERR_NOT_ALLOWED);
  {
    const HandlerScope scope(r);
    ASSERT_EQ(api.request_context(r.handle(), &context), SPOA_OK);
  }
  EXPECT_EQ(context.stream_id, 7u);
  EXPECT_EQ(context.frame_id, 3u);
  EXPECT_EQ(context.flags, SPOA_REQUEST_POOL);
  EXPECT_EQ(std::string(context.engine_id.ptr, context.engine_id.len), "engine");
  // A caller that knows only the first fields gets only those.
  spoa_request_context small{};
  small.struct_size = offsetof(spoa_request_context, frame_id);
  {
    const HandlerScope scope(r);
    ASSERT_EQ(api.request_context(r.handle(), &small), SPOA_OK);
  }
  EXPECT_EQ(small.stream_id, 7u);
  EXPECT_EQ(small.frame_id, 0u);
  r.facts = nullptr;
  r.handler_returned(SPOA_DONE);
  pool.release(r);
}

TEST(ExecutionPoolQueue, AFullQueueRefusesAtOnce) {
  ManualQueue home;
  RequestPool pool(home);
  // No threads: nothing drains the queue.
  ExecutionPool executor("unit", 0, 2);
  Request* a = pool.acquire(intern_route_name("unit", "m"));
  Request* b = pool.acquire(intern_route_name("unit", "m"));
  Request* c = pool.acquire(intern_route_name("unit", "m"));
  for (Request* r : {a, b, c}) {
    r->job = std::make_unique<PoolJob>();
    r->job->generation = r->generation();
  }
  EXPECT_TRUE(executor.submit(*a));
  EXPECT_TRUE(executor.submit(*b));
  EXPECT_FALSE(executor.submit(*c));
  // Stopping drops what waits: those calls end as FAILED (their handler never ran).
  EXPECT_TRUE(executor.stop(std::chrono::milliseconds(0)));
  EXPECT_EQ(a->state().phase(), Phase::failed);
  EXPECT_EQ(b->state().phase(), Phase::failed);
}

TEST(RequestPoolMemory, ABurstOfLargeAnswersIsGivenBackOnRelease) {
  ManualQueue home;
  RequestPool pool(home);
  Request* big = pool.acquire(intern_route_name("unit", "m"));
  big->actions.resize(64 * 1024);
  big->job = std::make_unique<PoolJob>();
  big->job->bytes.resize(48 * 1024);
  Request* small = pool.acquire(intern_route_name("unit", "m"));
  small->actions.resize(100);
  pool.release(*big);
  pool.release(*small);
  EXPECT_EQ(big->actions.capacity(), 0u) << "above the kept capacity: freed";
  EXPECT_EQ(big->job->bytes.capacity(), 0u);
  EXPECT_GE(small->actions.capacity(), 100u) << "a small buffer is kept for reuse";
  EXPECT_TRUE(small->actions.empty());
}

}  // namespace
}  // namespace spoa::host
