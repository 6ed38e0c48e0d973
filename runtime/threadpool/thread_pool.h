// A fixed-size pool of worker threads with one primitive: parallel_for over [0, n) with static
// partitioning. Chunk i of T is always [i*n/T, (i+1)*n/T), so which thread computes which index
// is fixed by (n, T) alone; kernels that make each index's arithmetic independent of its chunk
// (all of runtime/kernels/cpu do) give bit-identical results for any thread count.
//
// Idle workers sleep on a condition variable (no spinning). One parallel_for runs at a time:
// concurrent callers from different threads are serialized by a mutex, and a parallel_for issued
// from inside a running task executes inline on the calling thread (no deadlock, no
// oversubscription). The destructor wakes the workers and joins them.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace kiln {

class ThreadPool {
 public:
  // `num_threads` counts the calling thread, which takes chunk 0: ThreadPool(1) starts no
  // worker; 0 means std::thread::hardware_concurrency().
  explicit ThreadPool(int num_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(begin, end) on at most num_threads() disjoint, contiguous, non-empty chunks covering
  // [0, n) and returns when all are done. The first exception thrown by a chunk is rethrown here
  // after every chunk has finished.
  using RangeFn = std::function<void(int64_t begin, int64_t end)>;
  void parallel_for(int64_t n, const RangeFn& fn);

  // Chunk `index` of `chunks` over [0, n): the static partition used by parallel_for.
  static void chunk_range(int64_t n, int chunks, int index, int64_t* begin, int64_t* end);

 private:
  void worker_main(int index);
  void run_chunk(int index);

  std::vector<std::thread> workers_;
  std::mutex caller_mutex_;  // one parallel_for at a time
  std::mutex mutex_;         // guards everything below
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  uint64_t generation_ = 0;  // bumped once per parallel_for; workers wait for a new one
  bool stopping_ = false;
  int pending_ = 0;        // chunks not yet finished in the current generation
  int active_chunks_ = 0;  // chunks in the current generation
  int64_t n_ = 0;
  const RangeFn* fn_ = nullptr;
  std::exception_ptr error_;
};

}  // namespace kiln
