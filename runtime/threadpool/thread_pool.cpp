#include "runtime/threadpool/thread_pool.h"

#include <algorithm>
#include <exception>

namespace kiln {

namespace {
// Set while a thread executes a chunk: nested parallel_for calls then run inline.
thread_local bool t_inside_task = false;
}  // namespace

ThreadPool::ThreadPool(int num_threads) {
  if (num_threads <= 0) num_threads = std::max(1u, std::thread::hardware_concurrency());
  workers_.reserve(static_cast<size_t>(num_threads - 1));
  for (int i = 1; i < num_threads; ++i) workers_.emplace_back([this, i] { worker_main(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::chunk_range(int64_t n, int chunks, int index, int64_t* begin, int64_t* end) {
  *begin = n * index / chunks;
  *end = n * (index + 1) / chunks;
}

void ThreadPool::run_chunk(int index) {
  int64_t begin = 0, end = 0;
  chunk_range(n_, active_chunks_, index, &begin, &end);
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
    {
      std::unique_lock<std::mutex> lock(mutex_);
      work_cv_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      if (index >= active_chunks_) continue;  // this generation needs fewer threads
    }
    run_chunk(index);
    std::lock_guard<std::mutex> lock(mutex_);
    if (--pending_ == 0) done_cv_.notify_one();
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
  {
    std::lock_guard<std::mutex> lock(mutex_);
    n_ = n;
    fn_ = &fn;
    active_chunks_ = chunks;
    pending_ = chunks - 1;  // chunk 0 runs here
    error_ = nullptr;
    ++generation_;
  }
  work_cv_.notify_all();
  run_chunk(0);
  std::exception_ptr error;
  {
    std::unique_lock<std::mutex> lock(mutex_);
    done_cv_.wait(lock, [&] { return pending_ == 0; });
    fn_ = nullptr;
    error = error_;
    error_ = nullptr;
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace kiln
