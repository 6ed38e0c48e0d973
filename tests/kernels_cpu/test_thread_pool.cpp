// ThreadPool: static partitioning, full coverage, nested and concurrent callers, exceptions.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <time.h>
#include <vector>

#include "runtime/threadpool/thread_pool.h"

namespace kiln {
namespace {

TEST(ThreadPool, CoversEveryIndexOnceWithStaticChunks) {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.num_threads(), threads);
    for (int64_t n : {1, 2, 7, 100, 1001}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      std::vector<std::pair<int64_t, int64_t>> chunks;
      std::mutex m;
      pool.parallel_for(n, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
        std::lock_guard<std::mutex> lock(m);
        chunks.emplace_back(b, e);
      });
      for (auto& h : hits) EXPECT_EQ(h.load(), 1);
      // The chunks are exactly the documented static partition.
      const int used = static_cast<int>(std::min<int64_t>(n, threads));
      ASSERT_EQ(static_cast<int>(chunks.size()), used);
      std::sort(chunks.begin(), chunks.end());
      for (int i = 0; i < used; ++i) {
        int64_t b = 0, e = 0;
        ThreadPool::chunk_range(n, used, i, &b, &e);
        EXPECT_EQ(chunks[static_cast<size_t>(i)], std::make_pair(b, e));
      }
    }
  }
}

TEST(ThreadPool, NestedCallsRunInlineAndConcurrentCallersAreSerialized) {
  ThreadPool pool(3);
  std::atomic<int64_t> sum{0};
  pool.parallel_for(6, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      pool.parallel_for(10, [&](int64_t b2, int64_t e2) { sum += (e2 - b2) * (i + 1); });
    }
  });
  EXPECT_EQ(sum.load(), 10 * 21);

  std::atomic<int64_t> total{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&] {
      for (int r = 0; r < 200; ++r) {
        pool.parallel_for(50, [&](int64_t b, int64_t e) { total += e - b; });
      }
    });
  }
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(total.load(), 4 * 200 * 50);
}

TEST(ThreadPool, RethrowsTheFirstExceptionAfterAllChunksFinish) {
  ThreadPool pool(2);
  std::atomic<int> finished{0};
  EXPECT_THROW(pool.parallel_for(2,
                                 [&](int64_t b, int64_t) {
                                   if (b == 1) throw std::runtime_error("chunk failed");
                                   finished++;
                                 }),
               std::runtime_error);
  EXPECT_EQ(finished.load(), 1);
  // The pool still works afterwards.
  std::atomic<int> n{0};
  pool.parallel_for(4, [&](int64_t b, int64_t e) { n += static_cast<int>(e - b); });
  EXPECT_EQ(n.load(), 4);
}

// Back-to-back calls with changing chunk counts: a worker left out of one call must neither run
// a chunk of it nor miss the next one (the chunk count travels with the generation).
TEST(ThreadPool, ChangingChunkCountsRunEveryChunkExactlyOnce) {
  ThreadPool pool(4);
  int64_t expected = 0;
  std::atomic<int64_t> total{0};
  for (int r = 0; r < 3000; ++r) {
    const int64_t n = 1 + r % 5;  // 1..5 indices: 1..4 chunks
    pool.parallel_for(n, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) total += i + 1;
    });
    expected += n * (n + 1) / 2;
  }
  EXPECT_EQ(total.load(), expected);
}

// Workers past their spin window sleep; a later call wakes them and still gets every chunk.
TEST(ThreadPool, WakesSleepingWorkers) {
  ThreadPool pool(3);
  for (int r = 0; r < 3; ++r) {
    std::this_thread::sleep_for(ThreadPool::kSpinWindow * 3);
    std::atomic<int> chunks{0};
    pool.parallel_for(3, [&](int64_t, int64_t) { chunks++; });
    EXPECT_EQ(chunks.load(), 3);
  }
}

// A chunk whose worker has not started when the caller finishes its own runs on the caller:
// a sleeping worker needs a wake-up, far longer than an empty chunk 0, so on some of a few tries
// the caller runs chunk 1 itself. Every chunk still runs exactly once, with its static range.
TEST(ThreadPool, CallerRunsChunksNoWorkerHasStarted) {
  ThreadPool pool(2);
  int caller_ran_chunk1 = 0;
  for (int r = 0; r < 20 && caller_ran_chunk1 == 0; ++r) {
    std::this_thread::sleep_for(ThreadPool::kSpinWindow * 3);  // the worker sleeps
    std::mutex m;
    std::vector<std::pair<int64_t, std::thread::id>> ran;
    pool.parallel_for(10, [&](int64_t b, int64_t e) {
      std::lock_guard<std::mutex> lock(m);
      ran.emplace_back(b * 100 + e, std::this_thread::get_id());
    });
    ASSERT_EQ(ran.size(), 2u);
    std::sort(ran.begin(), ran.end());
    EXPECT_EQ(ran[0].first, 0 * 100 + 5);
    EXPECT_EQ(ran[1].first, 5 * 100 + 10);
    EXPECT_EQ(ran[0].second, std::this_thread::get_id());  // chunk 0 always runs here
    if (ran[1].second == std::this_thread::get_id()) ++caller_ran_chunk1;
  }
  EXPECT_GT(caller_ran_chunk1, 0);
}

double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// An idle pool does not spin: after the spin window the workers sleep, so 200 ms of idleness
// costs (almost) no CPU time.
TEST(ThreadPool, IdleWorkersSleep) {
  ThreadPool pool(3);
  pool.parallel_for(3, [](int64_t, int64_t) {});
  std::this_thread::sleep_for(ThreadPool::kSpinWindow * 5);  // let the spin windows end
  const double before = process_cpu_seconds();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const double used = process_cpu_seconds() - before;
  EXPECT_LT(used, 0.02) << "idle workers used " << used << " s of CPU in 0.2 s";
}

}  // namespace
}  // namespace kiln
