// The per-epoch progress display: batch, loss, accuracy, images/s and ETA. On a terminal it
// redraws one line (at most ten times a second); otherwise it prints a plain line about every
// tenth of the epoch, so logs stay readable.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace kiln::train {

class ProgressBar {
 public:
  ProgressBar(std::FILE* out, std::string title, int64_t total_batches, bool terminal);
  // After batch `done` (1-based) of the epoch; loss and accuracy are the epoch's running values.
  void update(int64_t done, double loss, double accuracy, int64_t images);
  void finish();  // ends the redrawn line on a terminal

  static bool is_terminal(std::FILE* f);
  static std::string format_duration(double seconds);  // "1:05", "1:02:03"

 private:
  std::FILE* out_;
  std::string title_;
  int64_t total_;
  bool terminal_;
  int64_t start_done_ = -1;  // batches done before this bar started (resumed epochs)
  int64_t images_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
  int64_t next_plain_ = 0;
  bool drawn_ = false;
};

}  // namespace kiln::train
