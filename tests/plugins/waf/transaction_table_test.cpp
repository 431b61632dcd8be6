// The response-phase table: bounded in entries, bytes and age, on a fake clock.
#include <gtest/gtest.h>

#include <memory>

#include "transaction_table.hpp"

namespace {

using namespace std::chrono_literals;
using spoa::waf::TableLimits;

struct Item {
  Item(std::size_t s, int* d) : size(s), destroyed(d) {}
  Item(const Item&) = delete;
  Item& operator=(const Item&) = delete;
  std::size_t size;
  int* destroyed;
  std::size_t bytes() const { return size; }
  ~Item() { ++*destroyed; }
};

class Table : public ::testing::Test {
 protected:
  using Clock = std::chrono::steady_clock;
  spoa::waf::TransactionTable<Item> make(TableLimits limits) {
    return spoa::waf::TransactionTable<Item>(limits, [this] { return now; });
  }
  std::unique_ptr<Item> item(std::size_t size) { return std::make_unique<Item>(size, &destroyed); }
  Clock::time_point now{};
  int destroyed = 0;
};

TEST_F(Table, TakeReturnsTheStoredValueOnce) {
  auto t = make({10, 1000, 10s});
  EXPECT_TRUE(t.put("a", item(10)));
  auto got = t.take("a");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->size, 10u);
  EXPECT_FALSE(t.take("a"));
  const auto s = t.stats();
  EXPECT_EQ(s.stored, 1u);
  EXPECT_EQ(s.taken, 1u);
  EXPECT_EQ(s.missing, 1u);
  EXPECT_EQ(s.entries, 0u);
  EXPECT_EQ(s.bytes, 0u);
}

TEST_F(Table, TheEntryBoundEvictsTheOldest) {
  auto t = make({2, 1000, 10s});
  t.put("a", item(1));
  t.put("b", item(1));
  t.put("c", item(1));
  EXPECT_FALSE(t.take("a"));
  EXPECT_TRUE(t.take("b"));
  EXPECT_TRUE(t.take("c"));
  EXPECT_EQ(t.stats().evicted, 1u);
}

TEST_F(Table, TheByteBoundEvictsUntilTheNewEntryFits) {
  auto t = make({100, 100, 10s});
  t.put("a", item(40));
  t.put("b", item(40));
  t.put("c", item(50));  // 130 > 100: the oldest (a) goes, 90 fits
  const auto s = t.stats();
  EXPECT_EQ(s.evicted, 1u);
  EXPECT_EQ(s.entries, 2u);
  EXPECT_EQ(s.bytes, 90u);
  EXPECT_EQ(destroyed, 1);
  EXPECT_FALSE(t.take("a"));
  EXPECT_TRUE(t.take("b"));
}

TEST_F(Table, AnEntryLargerThanTheBoundIsRefused) {
  auto t = make({100, 100, 10s});
  EXPECT_FALSE(t.put("big", item(101)));
  EXPECT_EQ(t.stats().refused, 1u);
  EXPECT_EQ(destroyed, 1);
}

TEST_F(Table, EntriesExpireAfterTheTtl) {
  auto t = make({100, 1000, 10s});
  t.put("a", item(1));
  now += 5s;
  t.put("b", item(1));
  now += 5s;  // a is 10 s old
  EXPECT_FALSE(t.take("a"));
  EXPECT_TRUE(t.take("b"));
  EXPECT_EQ(t.stats().expired, 1u);
}

TEST_F(Table, ExpireDropsOldEntriesWithoutATake) {
  auto t = make({100, 1000, 1s});
  t.put("a", item(1));
  now += 2s;
  t.expire();
  EXPECT_EQ(t.stats().entries, 0u);
  EXPECT_EQ(destroyed, 1);
}

TEST_F(Table, TheSameIdReplacesTheOldEntry) {
  auto t = make({100, 1000, 10s});
  t.put("a", item(1));
  t.put("a", item(2));
  EXPECT_EQ(t.take("a")->size, 2u);
  EXPECT_EQ(t.stats().evicted, 1u);
}

TEST_F(Table, MemoryStaysBoundedUnderAFloodOfUnansweredRequests) {
  auto t = make({1000, 50000, 10s});
  for (int i = 0; i < 100000; ++i)
    t.put("id-" + std::to_string(i), item(100));
  const auto s = t.stats();
  EXPECT_LE(s.entries, 500u);
  EXPECT_LE(s.bytes, 50000u);
  EXPECT_EQ(s.stored, 100000u);
  EXPECT_EQ(s.evicted + s.entries, 100000u);
}

}  // namespace
