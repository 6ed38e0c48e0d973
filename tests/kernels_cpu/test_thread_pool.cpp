// ThreadPool: static partitioning, full coverage, nested and concurrent callers, exceptions.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>
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

}  // namespace
}  // namespace kiln
