#include "ir/infer_util.h"

namespace kiln {

int64_t normalize_axis(const InferContext& ctx, int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= (rank == 0 ? 1 : rank)) {
    ctx.fail("axis ", axis, " is out of range for rank ", rank);
  }
  return axis < 0 ? axis + rank : axis;
}

Shape broadcast_shapes(const InferContext& ctx, const Shape& a, const Shape& b) {
  if (!a.rank_known || !b.rank_known) return Shape::unknown_rank();
  const size_t r = std::max(a.rank(), b.rank());
  Shape out = Shape::of_rank(r);
  for (size_t i = 0; i < r; ++i) {
    const Dim one = Dim::of(1);
    const Dim& da = i < r - a.rank() ? one : a.dims[i - (r - a.rank())];
    const Dim& db = i < r - b.rank() ? one : b.dims[i - (r - b.rank())];
    Dim& o = out.dims[i];
    if (da.is_static() && db.is_static()) {
      if (da.value != db.value && da.value != 1 && db.value != 1) {
        ctx.fail("cannot broadcast shapes ", a.to_string(), " and ", b.to_string());
      }
      o = Dim::of(da.value == 1 ? db.value : da.value);
    } else if (da.is_static() && da.value == 1) {
      o = db;
    } else if (db.is_static() && db.value == 1) {
      o = da;
    } else if (da.is_static()) {
      o = da;  // the other side must be equal or 1; a known size wins
    } else if (db.is_static()) {
      o = db;
    } else {
      o = (da == db) ? da : Dim::unknown();
    }
  }
  return out;
}

void same_as_input(InferContext& ctx, size_t i) {
  ctx.output(0).dtype = ctx.dtype(i);
  ctx.output(0).shape = ctx.shape(i);
}

std::optional<std::vector<int64_t>> const_ints(const InferContext& ctx, size_t i) {
  const Tensor* t = ctx.value(i);
  if (!t) return std::nullopt;
  if (!is_int(t->dtype())) ctx.fail("input ", i, " must be an integer tensor, got ", t->describe());
  return t->to_int64_vector();
}

Dim dim_mul(const Dim& a, const Dim& b) {
  if (a.is_static() && b.is_static()) return Dim::of(a.value * b.value);
  if (a.is_static() && a.value == 1) return b;
  if (b.is_static() && b.value == 1) return a;
  return Dim::unknown();
}

Dim dim_add(const Dim& a, const Dim& b) {
  if (a.is_static() && b.is_static()) return Dim::of(a.value + b.value);
  if (a.is_static() && a.value == 0) return b;
  if (b.is_static() && b.value == 0) return a;
  return Dim::unknown();
}

std::optional<int64_t> static_numel(const Shape& s) {
  if (!s.is_static()) return std::nullopt;
  return checked_numel(s.static_dims());
}

int64_t require_rank(const InferContext& ctx, size_t input) {
  const Shape& s = ctx.shape(input);
  if (!s.rank_known) ctx.fail("input ", input, " needs a known rank");
  return static_cast<int64_t>(s.rank());
}

}  // namespace kiln
