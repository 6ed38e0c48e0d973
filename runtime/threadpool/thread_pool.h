// A fixed-size pool of worker threads with one primitive: parallel_for over [0, n) with static
// partitioning. Chunk i of T is always [i*n/T, (i+1)*n/T), so which thread computes which index
// is fixed by (n, T) alone; kernels that make each index's arithmetic independent of its chunk
// (all of runtime/kernels/cpu do) give bit-identical results for any thread count.
//
// Waking a sleeping thread costs tens of microseconds (a futex round trip, more in a VM), as much
// as a small kernel, so a worker that finishes a chunk spins (with pause) for a short window,
// kSpinWindow, waiting for the next parallel_for: the launches of one inference follow each other
// within microseconds and hand over without a wake-up. After the window it sleeps on a condition
// variable, so an idle pool uses no CPU. The caller waits for the last chunk the same way.
// A chunk is claimed before it runs, by its worker or, once the caller has finished its own, by
// the caller: when another process holds a worker's core (a shared machine), the caller runs
// the chunks nobody has started instead of waiting a scheduler slice for them. Which thread runs
// a chunk never changes the chunk's range, so results stay the same.
// One parallel_for runs at a time:
// concurrent callers from different threads are serialized by a mutex, and a parallel_for issued
// from inside a running task executes inline on the calling thread (no deadlock, no
// oversubscription). The destructor wakes the workers and joins them.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
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

  // How long a worker (or the caller) spins before sleeping.
  static constexpr std::chrono::microseconds kSpinWindow{2000};

 private:
  void worker_main(int index);
  void run_chunk(int index, int chunks);
  // Claims chunk `index` of generation `sequence` for the calling thread; false when it is
  // already claimed (by its worker or the caller).
  bool claim(int index, uint64_t sequence);

  std::vector<std::thread> workers_;
  std::mutex caller_mutex_;  // one parallel_for at a time
  std::mutex mutex_;         // guards the sleeps and error_
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  // One word per parallel_for: (sequence number << 16) | number of chunks, so a worker reads
  // both at once. Stored (release) after n_ and fn_ are written; a worker with a chunk reads
  // those after seeing the new word (acquire), and they cannot change before its chunk is done.
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stopping_{false};
  std::atomic<int> pending_{0};           // chunks not yet finished in the current generation
  std::atomic<int> sleeping_workers_{0};  // workers blocked (or about to block) on work_cv_
  std::atomic<bool> caller_sleeping_{false};
  // Per chunk index: the sequence number of the last generation in which it was claimed.
  std::unique_ptr<std::atomic<uint64_t>[]> claimed_;
  int64_t n_ = 0;
  const RangeFn* fn_ = nullptr;
  std::exception_ptr error_;
};

}  // namespace kiln
