#include "runtime/threadpool/thread_pool.h"

#include <algorithm>
#include <exception>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define KILN_CPU_RELAX() _mm_pause()
#else
#define KILN_CPU_RELAX() std::this_thread::yield()
#endif

namespace kiln {

namespace {
// Set while a thread executes a chunk: nested parallel_for calls then run inline.
thread_local bool t_inside_task = false;

// Spins until done() or the spin window ends; true when done() became true. After the first
// kPauseWindow it yields between checks: on an oversubscribed machine the thread it waits for may
// be queued behind this one on the same core, and pure spinning would hold it off for a whole
// scheduler slice per launch.
constexpr std::chrono::microseconds kPauseWindow{50};

template <typename Done>
bool spin_until(const Done& done) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  const Clock::time_point yield_from = start + kPauseWindow;
  const Clock::time_point deadline = start + ThreadPool::kSpinWindow;
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      KILN_CPU_RELAX();
    }
    const Clock::time_point now = Clock::now();
    if (now >= deadline) return done();
    if (now >= yield_from) std::this_thread::yield();
  }
}
}  // namespace

ThreadPool::ThreadPool(int num_threads) {
  if (num_threads <= 0) num_threads = std::max(1u, std::thread::hardware_concurrency());
  num_threads = std::min(num_threads, 0xffff);  // the chunk count shares generation_'s word
  claimed_ = std::make_unique<std::atomic<uint64_t>[]>(static_cast<size_t>(num_threads));
  for (int i = 0; i < num_threads; ++i) claimed_[i].store(0);
  workers_.reserve(static_cast<size_t>(num_threads - 1));
  for (int i = 1; i < num_threads; ++i) workers_.emplace_back([this, i] { worker_main(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_.store(true);
  }
  work_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::chunk_range(int64_t n, int chunks, int index, int64_t* begin, int64_t* end) {
  *begin = n * index / chunks;
  *end = n * (index + 1) / chunks;
}

bool ThreadPool::claim(int index, uint64_t sequence) {
  uint64_t seen = claimed_[index].load();
  while (seen < sequence)
    if (claimed_[index].compare_exchange_weak(seen, sequence)) return true;
  return false;
}

void ThreadPool::run_chunk(int index, int chunks) {
  int64_t begin = 0, end = 0;
  chunk_range(n_, chunks, index, &begin, &end);
  if (begin >= end) return;
  t_inside_task = true;
  try {
    (*fn_)(begin, end);
  } catch (...) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!error_) error_ = std::current_exception();
  }
  t_inside_task = false;
}

void ThreadPool::worker_main(int index) {
  uint64_t seen = 0;
  for (;;) {
    auto has_work = [&] { return stopping_.load() || generation_.load() != seen; };
    if (!spin_until(has_work)) {
      // Sleep. sleeping_workers_ goes up before the last check of generation_ (both seq_cst),
      // and parallel_for bumps generation_ before reading sleeping_workers_: either this check
      // sees the new generation, or parallel_for sees a sleeper and notifies under the mutex.
      std::unique_lock<std::mutex> lock(mutex_);
      sleeping_workers_.fetch_add(1);
      work_cv_.wait(lock, has_work);
      sleeping_workers_.fetch_sub(1);
    }
    if (stopping_.load()) return;
    seen = generation_.load(std::memory_order_acquire);
    const int chunks = static_cast<int>(seen & 0xffff);
    if (index >= chunks) continue;  // this generation needs fewer threads
    // The caller may have run this chunk already (and even finished the generation): then
    // its range and fn_ are not this thread's to touch.
    if (!claim(index, seen >> 16)) continue;
    run_chunk(index, chunks);
    if (pending_.fetch_sub(1) == 1 && caller_sleeping_.load()) {
      std::lock_guard<std::mutex> lock(mutex_);
      done_cv_.notify_one();
    }
  }
}

void ThreadPool::parallel_for(int64_t n, const RangeFn& fn) {
  if (n <= 0) return;
  const int chunks = static_cast<int>(std::min<int64_t>(n, num_threads()));
  if (chunks == 1 || t_inside_task) {
    // Nested calls keep the same static partition, run one chunk after another.
    const bool was_inside = t_inside_task;
    t_inside_task = true;
    for (int i = 0; i < chunks; ++i) {
      int64_t b = 0, e = 0;
      chunk_range(n, chunks, i, &b, &e);
      try {
        fn(b, e);
      } catch (...) {
        t_inside_task = was_inside;
        throw;
      }
    }
    t_inside_task = was_inside;
    return;
  }
  std::lock_guard<std::mutex> caller(caller_mutex_);
  n_ = n;
  fn_ = &fn;
  error_ = nullptr;
  pending_.store(chunks - 1);  // chunk 0 runs here
  const uint64_t sequence = (generation_.load() >> 16) + 1;
  generation_.store((sequence << 16) | static_cast<uint64_t>(chunks));
  if (sleeping_workers_.load() > 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    work_cv_.notify_all();
  }
  run_chunk(0, chunks);
  // Chunks whose worker has not started yet run here (see the header).
  for (int i = 1; i < chunks; ++i)
    if (claim(i, sequence)) {
      run_chunk(i, chunks);
      pending_.fetch_sub(1);
    }
  auto all_done = [&] { return pending_.load() == 0; };
  if (!spin_until(all_done)) {
    std::unique_lock<std::mutex> lock(mutex_);
    caller_sleeping_.store(true);
    done_cv_.wait(lock, all_done);
    caller_sleeping_.store(false);
  }
  std::exception_ptr error;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    fn_ = nullptr;
    error = error_;
    error_ = nullptr;
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace kiln
