#include "train/progress.h"

#include <unistd.h>

#include <algorithm>

namespace kiln::train {

bool ProgressBar::is_terminal(std::FILE* f) { return ::isatty(::fileno(f)) == 1; }

std::string ProgressBar::format_duration(double seconds) {
  const int64_t s = static_cast<int64_t>(std::max(0.0, seconds) + 0.5);
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  }
  return buf;
}

ProgressBar::ProgressBar(std::FILE* out, std::string title, int64_t total_batches, bool terminal)
    : out_(out), title_(std::move(title)), total_(std::max<int64_t>(total_batches, 1)),
      terminal_(terminal), start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

void ProgressBar::update(int64_t done, double loss, double accuracy, int64_t images) {
  const auto now = std::chrono::steady_clock::now();
  if (start_done_ < 0) start_done_ = done - 1;
  images_ += images;
  const bool last = done >= total_;
  if (terminal_) {
    if (!last && drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  } else {
    // Plain lines at about every 10% of the epoch, and at its end.
    if (!last && done < next_plain_) return;
    next_plain_ = done + std::max<int64_t>(total_ / 10, 1);
  }
  last_draw_ = now;
  drawn_ = true;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(images_) / elapsed : 0.0;
  const int64_t run = done - start_done_;
  const double eta = run > 0 ? elapsed / static_cast<double>(run) * static_cast<double>(total_ - done) : 0.0;
  char stats[160];
  std::snprintf(stats, sizeof stats, "%lld/%lld loss=%.4f acc=%.2f%% %.0f img/s ETA %s",
                static_cast<long long>(done), static_cast<long long>(total_), loss,
                accuracy * 100.0, rate, format_duration(eta).c_str());
  if (terminal_) {
    constexpr int kWidth = 24;
    const int filled = static_cast<int>(kWidth * done / total_);
    std::string bar(static_cast<size_t>(filled), '=');
    if (filled < kWidth) bar += '>';
    bar.resize(kWidth, ' ');
    std::fprintf(out_, "\r%s [%s] %s\033[K", title_.c_str(), bar.c_str(), stats);
  } else {
    std::fprintf(out_, "%s %s\n", title_.c_str(), stats);
  }
  std::fflush(out_);
}

void ProgressBar::finish() {
  if (terminal_ && drawn_) std::fputc('\n', out_);
  std::fflush(out_);
}

}  // namespace kiln::train
