// Reference RNN, GRU and LSTM, computed in double one batch row at a time. Gate order in W, R
// and B follows the spec: GRU z, r, h; LSTM i, o, f, c; peepholes P are i, o, f.
#include <algorithm>
#include <cctype>
#include <cmath>

#include "runtime/kernels/ref/kernel.h"
#include "runtime/kernels/ref/ref_util.h"

namespace kiln {
namespace {

enum class Cell { Rnn, Gru, Lstm };

struct Activation {
  std::string name;  // lower case
  double alpha = 0, beta = 0;
  double operator()(double x) const {
    if (name == "sigmoid") return 1 / (1 + std::exp(-x));
    if (name == "tanh") return std::tanh(x);
    if (name == "relu") return std::max(x, 0.0);
    if (name == "affine") return alpha * x + beta;
    if (name == "leakyrelu") return x >= 0 ? x : alpha * x;
    if (name == "thresholdedrelu") return x > alpha ? x : 0;
    if (name == "scaledtanh") return alpha * std::tanh(beta * x);
    if (name == "hardsigmoid") return std::clamp(alpha * x + beta, 0.0, 1.0);
    if (name == "elu") return x >= 0 ? x : alpha * (std::exp(x) - 1);
    if (name == "softsign") return x / (1 + std::fabs(x));
    return std::log1p(std::exp(x));  // softplus
  }
};

// Builds the activation list: names from the attribute (or the cell's defaults, repeated per
// direction), alphas/betas consumed in order by the functions that take them.
std::vector<Activation> activations(const KernelContext& ctx, Cell cell, int64_t dirs) {
  const Attributes& a = ctx.attr();
  const std::vector<std::string> defaults =
      cell == Cell::Rnn ? std::vector<std::string>{"Tanh"}
      : cell == Cell::Gru ? std::vector<std::string>{"Sigmoid", "Tanh"}
                          : std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"};
  const size_t per_dir = defaults.size();
  std::vector<std::string> names = a.get_strings("activations");
  if (names.empty()) {
    for (int64_t d = 0; d < dirs; ++d) names.insert(names.end(), defaults.begin(), defaults.end());
  }
  // A forward-only list given for a bidirectional node is reused for the reverse direction.
  if (dirs == 2 && names.size() == per_dir) names.insert(names.end(), names.begin(), names.end());
  ctx.check(names.size() == per_dir * static_cast<size_t>(dirs), "activations has ", names.size(),
            " entries, expected ", per_dir * static_cast<size_t>(dirs));
  const std::vector<float> alphas = a.get_floats("activation_alpha");
  const std::vector<float> betas = a.get_floats("activation_beta");
  size_t ia = 0, ib = 0;
  std::vector<Activation> out;
  for (const std::string& n : names) {
    Activation f;
    for (char c : n) f.name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    double da = 0, db = 0;
    bool uses_a = true, uses_b = false;
    if (f.name == "affine") { da = 1; uses_b = true; }
    else if (f.name == "leakyrelu") da = 0.01;
    else if (f.name == "thresholdedrelu") da = 1;
    else if (f.name == "scaledtanh") { da = 1; db = 1; uses_b = true; }
    else if (f.name == "hardsigmoid") { da = 0.2; db = 0.5; uses_b = true; }
    else if (f.name == "elu") da = 1;
    else if (f.name == "sigmoid" || f.name == "tanh" || f.name == "relu" || f.name == "softsign" ||
             f.name == "softplus") uses_a = false;
    else ctx.fail("activation '", n, "' is not supported by the spec");
    f.alpha = uses_a && ia < alphas.size() ? alphas[ia++] : da;
    f.beta = uses_b && ib < betas.size() ? betas[ib++] : db;
    out.push_back(f);
  }
  return out;
}

std::vector<double> to_doubles(const Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[static_cast<size_t>(i)] = t.as_double(i);
  return v;
}

void store(Tensor& t, const std::vector<double>& v) {
  dispatch_dtype(t.dtype(), "output", [&]<typename T>() {
    T* p = t.data<T>();
    for (size_t i = 0; i < v.size(); ++i) p[i] = T(static_cast<ref::compute_t<T>>(v[i]));
  });
}

void run_recurrent(KernelContext& ctx, Cell cell) {
  const Attributes& a = ctx.attr();
  const int64_t G = cell == Cell::Rnn ? 1 : cell == Cell::Gru ? 3 : 4;
  const Tensor &xt = ctx.input(0), &wt = ctx.input(1), &rt = ctx.input(2);
  const std::string dir = a.get_string("direction", "forward");
  const int64_t dirs = dir == "bidirectional" ? 2 : 1;
  const bool batch_first = ctx.opset >= 14 && a.get_int("layout", 0) == 1;
  ctx.check(xt.rank() == 3 && wt.rank() == 3 && rt.rank() == 3, "X, W and R must be 3-D");
  const int64_t S = xt.dim(batch_first ? 1 : 0), B = xt.dim(batch_first ? 0 : 1), I = xt.dim(2);
  const int64_t H = a.has("hidden_size") ? a.get_int("hidden_size") : rt.dim(2);
  ctx.check(H > 0 && wt.dims() == Dims{dirs, G * H, I} && rt.dims() == Dims{dirs, G * H, H},
            "W ", wt.describe(), " / R ", rt.describe(), " do not fit ", dirs, " directions, ",
            G * H, " gate rows and input size ", I);
  const bool has_clip = a.has("clip");
  const double clip = a.get_float("clip", 0);
  const bool lbr = cell == Cell::Gru && a.get_int("linear_before_reset", 0) != 0;
  const bool input_forget = cell == Cell::Lstm && a.get_int("input_forget", 0) != 0;
  const std::vector<Activation> acts = activations(ctx, cell, dirs);
  const size_t nact = acts.size() / static_cast<size_t>(dirs);

  const std::vector<double> X = to_doubles(xt), W = to_doubles(wt), R = to_doubles(rt);
  const auto optional = [&](size_t i, Dims want, const char* what) {
    if (!ctx.has_input(i)) return std::vector<double>(static_cast<size_t>(checked_numel(want)), 0.0);
    ctx.check(ctx.input(i).dims() == want, what, " must be ", dims_to_string(want), ", got ",
              ctx.input(i).describe());
    return to_doubles(ctx.input(i));
  };
  const std::vector<double> bias = optional(3, {dirs, 2 * G * H}, "B");
  const Dims state_dims = batch_first ? Dims{B, dirs, H} : Dims{dirs, B, H};
  const std::vector<double> h0 = optional(5, state_dims, "initial_h");
  const std::vector<double> c0 = cell == Cell::Lstm ? optional(6, state_dims, "initial_c")
                                                    : std::vector<double>{};
  const std::vector<double> peep = cell == Cell::Lstm ? optional(7, {dirs, 3 * H}, "P")
                                                      : std::vector<double>{};
  std::vector<int64_t> lens(static_cast<size_t>(B), S);
  if (ctx.has_input(4)) {
    const Tensor& l = ctx.input(4);
    ctx.check(l.dims() == Dims{B}, "sequence_lens must have ", B, " values, got ", l.describe());
    lens = l.to_int64_vector();
    for (int64_t v : lens) ctx.check(v >= 0 && v <= S, "sequence length ", v, " is out of range [0, ", S, "]");
  }
  const auto x_at = [&](int64_t t, int64_t b) {
    return &X[static_cast<size_t>((batch_first ? b * S + t : t * B + b) * I)];
  };
  const auto state_at = [&](int64_t d, int64_t b) {
    return static_cast<size_t>((batch_first ? b * dirs + d : d * B + b) * H);
  };
  std::vector<double> Y(static_cast<size_t>(S * dirs * B * H), 0.0);
  std::vector<double> Yh(static_cast<size_t>(dirs * B * H)), Yc(Yh.size());
  const auto clipped = [&](double v) { return has_clip ? std::clamp(v, -clip, clip) : v; };

  for (int64_t d = 0; d < dirs; ++d) {
    const bool reverse = dir == "reverse" || d == 1;
    const double* w = &W[static_cast<size_t>(d * G * H * I)];
    const double* r = &R[static_cast<size_t>(d * G * H * H)];
    const double* wb = &bias[static_cast<size_t>(d * 2 * G * H)];
    const double* rb = wb + G * H;
    const Activation* f = &acts[static_cast<size_t>(d) * nact];
    for (int64_t b = 0; b < B; ++b) {
      std::vector<double> h(h0.begin() + static_cast<long>(state_at(d, b)),
                            h0.begin() + static_cast<long>(state_at(d, b) + static_cast<size_t>(H)));
      std::vector<double> c(static_cast<size_t>(H), 0.0);
      if (cell == Cell::Lstm) std::copy_n(c0.begin() + static_cast<long>(state_at(d, b)), H, c.begin());
      const int64_t L = lens[static_cast<size_t>(b)];
      std::vector<double> xw(static_cast<size_t>(G * H)), hr(xw.size()), next(static_cast<size_t>(H));
      std::vector<double> reset(next.size()), reset_h(next.size());  // GRU only
      for (int64_t step = 0; step < L; ++step) {
        const int64_t t = reverse ? L - 1 - step : step;
        const double* x = x_at(t, b);
        // xw = W·x + Wb ; hr = R·h + Rb, for every gate row.
        for (int64_t g = 0; g < G * H; ++g) {
          double s = wb[g], q = rb[g];
          for (int64_t k = 0; k < I; ++k) s += w[g * I + k] * x[k];
          for (int64_t k = 0; k < H; ++k) q += r[g * H + k] * h[static_cast<size_t>(k)];
          xw[static_cast<size_t>(g)] = s;
          hr[static_cast<size_t>(g)] = q;
        }
        if (cell == Cell::Gru) {
          for (int64_t k = 0; k < H; ++k) {
            const size_t ku = static_cast<size_t>(k);
            reset[ku] = f[0](clipped(xw[static_cast<size_t>(H + k)] + hr[static_cast<size_t>(H + k)]));
          }
          for (int64_t j = 0; !lbr && j < H; ++j) {
            double q = rb[2 * H + j];
            for (int64_t k = 0; k < H; ++k) {
              q += r[(2 * H + j) * H + k] * reset[static_cast<size_t>(k)] * h[static_cast<size_t>(k)];
            }
            reset_h[static_cast<size_t>(j)] = q;
          }
        }
        for (int64_t j = 0; j < H; ++j) {
          const auto gate = [&](int64_t k) {
            return xw[static_cast<size_t>(k * H + j)] + hr[static_cast<size_t>(k * H + j)];
          };
          const size_t ju = static_cast<size_t>(j);
          if (cell == Cell::Rnn) {
            next[ju] = f[0](clipped(gate(0)));
          } else if (cell == Cell::Gru) {
            const double z = f[0](clipped(gate(0)));
            // linear_before_reset: r ⊙ (R·h + Rb); otherwise R·(r ⊙ h) + Rb.
            const double hh = xw[static_cast<size_t>(2 * H + j)] +
                              (lbr ? reset[ju] * hr[static_cast<size_t>(2 * H + j)] : reset_h[ju]);
            next[ju] = (1 - z) * f[1](clipped(hh)) + z * h[ju];
          } else {
            const double* p = &peep[static_cast<size_t>(d * 3 * H)];
            const double ig = f[0](clipped(gate(0) + p[j] * c[ju]));
            const double fg = input_forget ? 1 - ig : f[0](clipped(gate(2) + p[2 * H + j] * c[ju]));
            const double cg = f[1](clipped(gate(3)));
            const double ct = fg * c[ju] + ig * cg;
            const double og = f[0](clipped(gate(1) + p[H + j] * ct));
            c[ju] = ct;
            next[ju] = og * f[2](ct);
          }
        }
        h = next;
        double* y = &Y[static_cast<size_t>((batch_first ? (b * S + t) * dirs + d : (t * dirs + d) * B + b) * H)];
        std::copy(h.begin(), h.end(), y);
      }
      std::copy(h.begin(), h.end(), Yh.begin() + static_cast<long>(state_at(d, b)));
      std::copy(c.begin(), c.end(), Yc.begin() + static_cast<long>(state_at(d, b)));
    }
  }
  if (ctx.wants_output(0)) store(ctx.output(0, batch_first ? Dims{B, S, dirs, H} : Dims{S, dirs, B, H}), Y);
  if (ctx.wants_output(1)) store(ctx.output(1, state_dims), Yh);
  if (cell == Cell::Lstm && ctx.wants_output(2)) store(ctx.output(2, state_dims), Yc);
}

}  // namespace

void ref_RNN(KernelContext& ctx) { run_recurrent(ctx, Cell::Rnn); }
void ref_GRU(KernelContext& ctx) { run_recurrent(ctx, Cell::Gru); }
void ref_LSTM(KernelContext& ctx) { run_recurrent(ctx, Cell::Lstm); }

}  // namespace kiln
