// A small deterministic random number generator (SplitMix64). Unlike <random>'s
// distributions, its outputs are specified here, so a seed gives the same weights, shuffles and
// dropout masks on every platform and standard library.
#pragma once

#include <cstdint>

namespace kiln::mnist {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  // An independent stream for (seed, purpose, index): e.g. the shuffle of epoch 3.
  static Rng stream(uint64_t seed, uint64_t purpose, uint64_t index = 0) {
    Rng r(seed ^ 0x6a09e667f3bcc909ull);
    r.state_ ^= r.next_u64() + purpose * 0x9e3779b97f4a7c15ull;
    r.state_ ^= r.next_u64() + index * 0xbf58476d1ce4e5b9ull;
    r.next_u64();
    return r;
  }

  uint64_t next_u64() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [0, n), unbiased (rejection sampling); n > 0.
  uint64_t below(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t v;
    do {
      v = next_u64();
    } while (v >= limit);
    return v % n;
  }

 private:
  uint64_t state_;
};

// Purposes for Rng::stream, so the streams never overlap.
enum RngPurpose : uint64_t { kRngInit = 1, kRngShuffle = 2, kRngDropout = 3, kRngData = 4 };

}  // namespace kiln::mnist
