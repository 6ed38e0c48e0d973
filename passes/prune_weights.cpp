#include "passes/prune_weights.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "passes/pattern_util.h"

namespace kiln {
namespace {

int64_t product(const Dims& d, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to && i < d.size(); ++i) p *= d[i];
  return p;
}

// The layout of `n`'s weight input 1 when it is a prunable one.
bool weight_layout(const Graph& g, const Node& n, PrunableWeight& w) {
  const Tensor* t = constant_tensor(g, n.input(1));
  if (!t || t->dtype() != DType::F32 || t->rank() < 2 || t->numel() == 0) return false;
  const Dims& d = t->dims();
  w.value = n.input(1);
  if (n.op == OpKind::Conv) {
    w.outer = d[0];
    w.len = d[1];
    w.inner = product(d, 2, d.size());
  } else if (n.op == OpKind::Gemm) {
    if (t->rank() != 2) return false;
    const bool trans_b = n.attrs.get_int("transB", 0) != 0;
    w.outer = trans_b ? d[0] : 1;
    w.len = trans_b ? d[1] : d[0];
    w.inner = trans_b ? 1 : d[1];
  } else if (n.op == OpKind::MatMul) {
    w.outer = product(d, 0, d.size() - 2);
    w.len = d[d.size() - 2];
    w.inner = d.back();
  } else {
    return false;
  }
  return true;
}

// Indices of the k smallest |v| (ties: lower index first), found with one nth_element on the
// magnitudes; the boundary value's ties are taken in index order so exactly k come out.
void zero_smallest(const std::vector<std::pair<const float*, int64_t>>& spans, int64_t k,
                   std::vector<KeepMask>& masks) {
  if (k <= 0) return;
  std::vector<float> mags;
  for (const auto& [p, n] : spans)
    for (int64_t i = 0; i < n; ++i) mags.push_back(std::fabs(p[i]));
  std::nth_element(mags.begin(), mags.begin() + (k - 1), mags.end());
  const float threshold = mags[static_cast<size_t>(k - 1)];
  int64_t below = 0;
  for (const auto& [p, n] : spans)
    for (int64_t i = 0; i < n; ++i) below += std::fabs(p[i]) < threshold;
  int64_t ties_left = k - below;  // elements equal to the threshold still to zero
  for (size_t s = 0; s < spans.size(); ++s) {
    const auto& [p, n] = spans[s];
    for (int64_t i = 0; i < n; ++i) {
      const float a = std::fabs(p[i]);
      if (a < threshold || (a == threshold && ties_left > 0)) {
        if (a == threshold) --ties_left;
        masks[s][static_cast<size_t>(i)] = 0;
      }
    }
  }
}

}  // namespace

std::vector<PrunableWeight> prunable_weights(const Graph& g) {
  std::vector<PrunableWeight> out;
  std::set<const Value*> seen;
  for (const auto& n : g.nodes()) {
    PrunableWeight w;
    if (!weight_layout(g, *n, w) || !seen.insert(w.value).second) continue;
    out.push_back(w);
  }
  return out;
}

std::vector<KeepMask> magnitude_masks(const std::vector<const Tensor*>& weights, double ratio,
                                      bool global) {
  std::vector<KeepMask> masks;
  for (const Tensor* t : weights) masks.emplace_back(static_cast<size_t>(t->numel()), 1);
  auto count = [&](int64_t n) { return static_cast<int64_t>(std::llround(ratio * n)); };
  if (global) {
    std::vector<std::pair<const float*, int64_t>> spans;
    int64_t total = 0;
    for (const Tensor* t : weights) {
      spans.emplace_back(t->data<float>(), t->numel());
      total += t->numel();
    }
    zero_smallest(spans, count(total), masks);
  } else {
    for (size_t i = 0; i < weights.size(); ++i) {
      std::vector<KeepMask> one(1, KeepMask(static_cast<size_t>(weights[i]->numel()), 1));
      zero_smallest({{weights[i]->data<float>(), weights[i]->numel()}}, count(weights[i]->numel()),
                    one);
      masks[i] = std::move(one[0]);
    }
  }
  return masks;
}

bool nm_applicable(const PrunableWeight& w, int m) { return w.len % m == 0; }

KeepMask nm_mask(const Tensor& t, const PrunableWeight& w, int n, int m) {
  KILN_CHECK(nm_applicable(w, m), "nm_mask: reduction length ", w.len, " is not a multiple of ", m);
  KeepMask mask(static_cast<size_t>(t.numel()), 0);
  const float* p = t.data<float>();
  std::vector<int64_t> idx(static_cast<size_t>(m));
  for (int64_t o = 0; o < w.outer; ++o) {
    for (int64_t in = 0; in < w.inner; ++in) {
      for (int64_t l0 = 0; l0 < w.len; l0 += m) {
        for (int j = 0; j < m; ++j) idx[static_cast<size_t>(j)] = (o * w.len + l0 + j) * w.inner + in;
        // Largest |w| first; stable, so equal magnitudes keep the earlier element.
        std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) {
          return std::fabs(p[a]) > std::fabs(p[b]);
        });
        for (int j = 0; j < n; ++j) mask[static_cast<size_t>(idx[static_cast<size_t>(j)])] = 1;
      }
    }
  }
  return mask;
}

bool satisfies_nm(const Tensor& t, const PrunableWeight& w, int n, int m) {
  if (!nm_applicable(w, m)) return false;
  const float* p = t.data<float>();
  for (int64_t o = 0; o < w.outer; ++o)
    for (int64_t in = 0; in < w.inner; ++in)
      for (int64_t l0 = 0; l0 < w.len; l0 += m) {
        int nonzero = 0;
        for (int j = 0; j < m; ++j) nonzero += p[(o * w.len + l0 + j) * w.inner + in] != 0.0f;
        if (nonzero > n) return false;
      }
  return true;
}

void apply_mask(Tensor& t, const KeepMask& mask) {
  KILN_CHECK(static_cast<size_t>(t.numel()) == mask.size(), "apply_mask: ", mask.size(),
             " mask entries for ", t.describe());
  float* p = t.data<float>();
  for (size_t i = 0; i < mask.size(); ++i)
    if (!mask[i]) p[i] = 0.0f;
}

int64_t count_zeros(const Tensor& t) {
  int64_t z = 0;
  for (int64_t i = 0; i < t.numel(); ++i) z += t.as_double(i) == 0.0;
  return z;
}

}  // namespace kiln
