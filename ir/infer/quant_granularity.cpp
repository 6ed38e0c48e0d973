#include "ir/infer/quant_granularity.h"

namespace kiln {

int64_t QuantGranularity::scale_index(const Dims& x, const Dims& scale, int64_t i) const {
  if (kind == Kind::PerTensor) return 0;
  const size_t ax = static_cast<size_t>(axis);
  int64_t inner = 1;
  for (size_t d = ax + 1; d < x.size(); ++d) inner *= x[d];
  const int64_t a = (i / inner) % x[ax];
  if (kind == Kind::PerAxis) return a;
  const int64_t outer = i / inner / x[ax];
  return (outer * scale[ax] + a / block_size) * inner + i % inner;
}

QuantGranularity quant_granularity(const Attributes& attrs, int opset, const Shape& x,
                                   const Shape& scale, const Shape* zero_point,
                                   const std::string& where) {
  QuantGranularity g;
  if (zero_point && scale.rank_known && zero_point->rank_known) {
    bool same = scale.rank() == zero_point->rank();
    for (size_t i = 0; same && i < scale.rank(); ++i) {
      const Dim& a = scale.dims[i];
      const Dim& b = zero_point->dims[i];
      if (a.is_static() && b.is_static() && a.value != b.value) same = false;
    }
    if (!same) {
      fail(where, "scale ", scale.to_string(), " and zero point ", zero_point->to_string(),
           " must have the same shape");
    }
  }
  const int64_t block = opset >= 21 ? attrs.get_int("block_size", 0) : 0;
  if (block < 0) fail(where, "block_size ", block, " must be >= 0");
  if (!scale.rank_known) return g;  // cannot tell; the kernel sees concrete shapes
  bool single = scale.rank() == 0;
  if (scale.rank() == 1 && scale.dims[0].is_static() && scale.dims[0].value == 1) single = true;
  if (single) return g;  // one scale (the reference ignores block_size then)

  const int64_t axis_attr = attrs.get_int("axis", 1);
  if (!x.rank_known) {
    g.kind = block > 0 ? QuantGranularity::Kind::Blocked : QuantGranularity::Kind::PerAxis;
    g.block_size = block;
    return g;
  }
  const int64_t r = static_cast<int64_t>(x.rank());
  if (axis_attr < -r || axis_attr >= r) {
    fail(where, "axis ", axis_attr, " is out of range for x of rank ", r, " (scale ",
         scale.to_string(), ")");
  }
  g.axis = axis_attr < 0 ? axis_attr + r : axis_attr;
  const size_t ax = static_cast<size_t>(g.axis);
  const Dim& d = x.dims[ax];

  if (block == 0) {
    if (scale.rank() != 1) {
      fail(where, "scale ", scale.to_string(), " must be a scalar or 1-D",
           opset >= 21 ? " (or set block_size for blocked quantization)" : "");
    }
    if (opset < 13) fail(where, "per-axis scale ", scale.to_string(), " needs opset >= 13");
    if (d.is_static() && scale.dims[0].is_static() && d.value != scale.dims[0].value) {
      fail(where, "scale ", scale.to_string(), " does not match x ", x.to_string(), " along axis ",
           g.axis);
    }
    g.kind = QuantGranularity::Kind::PerAxis;
    return g;
  }

  if (scale.rank() != x.rank()) {
    fail(where, "blocked scale ", scale.to_string(), " must have the rank of x ", x.to_string());
  }
  for (size_t i = 0; i < x.rank(); ++i) {
    const Dim& xd = x.dims[i];
    const Dim& sd = scale.dims[i];
    if (!xd.is_static() || !sd.is_static()) continue;
    const int64_t want = i == ax ? (xd.value + block - 1) / block : xd.value;
    if (sd.value != want) {
      fail(where, "blocked scale ", scale.to_string(), " does not fit x ", x.to_string(),
           " with block_size ", block, " along axis ", g.axis);
    }
  }
  g.kind = QuantGranularity::Kind::Blocked;
  g.block_size = block;
  return g;
}

}  // namespace kiln
