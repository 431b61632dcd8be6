// WatchedFile and FileWatcher: a changed file is reloaded, a broken one keeps the last
// good version and says file:line. The tests drive refresh() themselves (no sleeps) except
// the one that proves the background thread polls, which waits for the event.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "spoa/support/parse_error.hpp"
#include "spoa/support/snapshot.hpp"
#include "spoa/support/text_lines.hpp"
#include "spoa/support/watched_file.hpp"

namespace spoa::support {
namespace {

namespace fs = std::filesystem;

// A file of integers, one a line; "bad" anywhere is a parse error on that line.
struct Fixture : ::testing::Test {
  fs::path dir;
  fs::path path;
  Snapshot<std::vector<int>> data;
  std::mutex log_mutex;
  std::vector<std::string> log;
  std::shared_ptr<SourceHealth> health = std::make_shared<SourceHealth>("numbers");

  void SetUp() override {
    dir = fs::temp_directory_path() /
          ("spoa-watched-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir);
    path = dir / "numbers.txt";
  }
  void TearDown() override { fs::remove_all(dir); }

  // Written beside and renamed over, the way list updaters replace files.
  void replace(const std::string& content) {
    const fs::path tmp = dir / "numbers.tmp";
    std::ofstream(tmp) << content;
    fs::rename(tmp, path);
  }

  std::shared_ptr<WatchedFile> make() {
    return std::make_shared<WatchedFile>(
        path.string(),
        [this](const std::string& p) {
          const std::string text = read_file(p);
          auto next = std::make_shared<std::vector<int>>();
          TextLines lines(text);
          std::string_view line;
          std::size_t number = 0;
          while (lines.next(line, number)) {
            if (line == "bad") throw ParseError(p, number, "'bad' is not a number");
            next->push_back(std::stoi(std::string(line)));
          }
          const std::size_t n = next->size();
          data.publish(std::move(next));
          return n;
        },
        health,
        [this](Severity, const std::string& text) {
          std::lock_guard lock(log_mutex);
          log.push_back(text);
        });
  }
};

TEST_F(Fixture, LoadsAndReloadsWhenTheFileChanges) {
  replace("1\n2\n");
  auto file = make();
  file->load_now();
  EXPECT_EQ(*data.get(), (std::vector<int>{1, 2}));
  EXPECT_FALSE(file->refresh());  // unchanged
  replace("3\n");
  EXPECT_TRUE(file->refresh());
  EXPECT_EQ(*data.get(), (std::vector<int>{3}));
  const auto v = health->view();
  EXPECT_EQ(v.entries, 1u);
  EXPECT_EQ(v.loads_ok, 2u);
  EXPECT_TRUE(v.last_ok);
  EXPECT_GT(v.last_success, 0);
}

TEST_F(Fixture, BrokenReplacementKeepsTheLastGoodVersionAndLogsFileLine) {
  replace("1\n2\n");
  auto file = make();
  file->load_now();
  replace("4\n# comment\nbad\n");
  EXPECT_FALSE(file->refresh());
  EXPECT_EQ(*data.get(), (std::vector<int>{1, 2}));
  ASSERT_EQ(log.size(), 1u);
  EXPECT_NE(log[0].find(path.string() + ":3: 'bad' is not a number"), std::string::npos) << log[0];
  EXPECT_NE(log[0].find("keeping the version loaded last"), std::string::npos);
  const auto v = health->view();
  EXPECT_FALSE(v.last_ok);
  EXPECT_TRUE(v.has_data);
  EXPECT_EQ(v.entries, 2u);
  EXPECT_EQ(v.loads_failed, 1u);
  // Not retried until it changes again; a fixed file is taken.
  EXPECT_FALSE(file->refresh());
  EXPECT_EQ(log.size(), 1u);
  replace("5\n");
  EXPECT_TRUE(file->refresh());
  EXPECT_EQ(*data.get(), (std::vector<int>{5}));
}

TEST_F(Fixture, BrokenFileAtStartIsAnError) {
  replace("bad\n");
  auto file = make();
  EXPECT_THROW(file->load_now(), ParseError);
  EXPECT_FALSE(data.get());
}

TEST_F(Fixture, VanishedFileKeepsDataUntilItComesBack) {
  replace("1\n");
  auto file = make();
  file->load_now();
  fs::remove(path);
  EXPECT_FALSE(file->refresh());
  EXPECT_FALSE(file->refresh());
  EXPECT_EQ(log.size(), 1u);  // said once
  EXPECT_EQ(*data.get(), (std::vector<int>{1}));
  replace("1\n");  // same content, new file: loaded again
  EXPECT_TRUE(file->refresh());
}

TEST_F(Fixture, WatcherThreadPicksUpAReplacement) {
  replace("1\n");
  auto file = make();
  file->load_now();
  FileWatcher watcher(std::chrono::milliseconds(10));
  watcher.watch(file);
  watcher.start();
  replace("7\n8\n9\n");
  // Waits for the event (generous bound), not for a time margin.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (health->view().loads_ok < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(*data.get(), (std::vector<int>{7, 8, 9}));
  watcher.stop();
}

TEST(Snapshot, ReadersKeepTheVersionTheyTookWhileANewOneIsPublished) {
  Snapshot<int> s(std::make_shared<const int>(1));
  auto held = s.get();
  s.publish(std::make_shared<const int>(2));
  EXPECT_EQ(*held, 1);
  EXPECT_EQ(*s.get(), 2);
}

TEST(Snapshot, ConcurrentReadersAndPublisher) {
  Snapshot<std::vector<int>> s(std::make_shared<const std::vector<int>>(100, 0));
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        auto v = s.get();
        // Every published vector is uniform: a torn one would not be.
        for (int x : *v)
          ASSERT_EQ(x, v->front());
      }
    });
  }
  for (int i = 1; i <= 200; ++i)
    s.publish(std::make_shared<const std::vector<int>>(100, i));
  stop = true;
  for (auto& r : readers)
    r.join();
}

TEST(PeriodicThread, WakeRunsTheTaskWithoutWaitingOutTheInterval) {
  std::atomic<int> runs{0};
  {
    PeriodicThread t(std::chrono::hours(1), [&] { ++runs; });
    t.wake();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (runs.load() == 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }  // destruction does not wait an hour
  EXPECT_EQ(runs.load(), 1);
}

}  // namespace
}  // namespace spoa::support
