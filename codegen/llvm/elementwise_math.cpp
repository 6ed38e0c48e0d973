#include "codegen/llvm/elementwise_math.h"

#include <cmath>

#include <llvm/IR/Intrinsics.h>

#include "ir/error.h"

namespace kiln::llvm_codegen {
namespace {

llvm::Value* f(llvm::IRBuilder<>& b, double v) {
  return llvm::ConstantFP::get(b.getFloatTy(), v);
}

llvm::Value* unary_intrinsic(llvm::IRBuilder<>& b, llvm::Intrinsic::ID id, llvm::Value* x) {
  return b.CreateUnaryIntrinsic(id, x);
}

llvm::Value* maxf(llvm::IRBuilder<>& b, llvm::Value* x, llvm::Value* y) {
  return b.CreateBinaryIntrinsic(llvm::Intrinsic::maxnum, x, y);
}
llvm::Value* minf(llvm::IRBuilder<>& b, llvm::Value* x, llvm::Value* y) {
  return b.CreateBinaryIntrinsic(llvm::Intrinsic::minnum, x, y);
}

// Horner evaluation of c[0] + c[1] x + c[2] x^2 + ...
llvm::Value* poly(llvm::IRBuilder<>& b, llvm::Value* x, std::initializer_list<double> c) {
  std::vector<double> cs(c);
  llvm::Value* acc = f(b, cs.back());
  for (size_t i = cs.size() - 1; i-- > 0;) acc = b.CreateFAdd(b.CreateFMul(acc, x), f(b, cs[i]));
  return acc;
}

llvm::Value* sigmoid(llvm::IRBuilder<>& b, llvm::Value* x) {
  return b.CreateFDiv(f(b, 1.0), b.CreateFAdd(f(b, 1.0), emit_exp(b, b.CreateFNeg(x))));
}

}  // namespace

// exp(x) = 2^n * exp(r), n = round(x / ln 2), |r| <= ln2 / 2, exp(r) by its degree-7 Taylor
// polynomial (relative error < 2e-8 before rounding). x is clamped to the range where 2^n is a
// normal float; below it the result is the smallest normal instead of a denormal or zero.
llvm::Value* emit_exp(llvm::IRBuilder<>& b, llvm::Value* x) {
  llvm::Value* xc = minf(b, maxf(b, x, f(b, -87.33654)), f(b, 88.72283));
  llvm::Value* n = unary_intrinsic(b, llvm::Intrinsic::floor,
                                   b.CreateFAdd(b.CreateFMul(xc, f(b, 1.4426950408889634)), f(b, 0.5)));
  llvm::Value* r = b.CreateFSub(xc, b.CreateFMul(n, f(b, 0.693145751953125)));
  r = b.CreateFSub(r, b.CreateFMul(n, f(b, 1.428606765330187e-06)));
  llvm::Value* p = poly(b, r, {1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720,
                               1.0 / 5040});
  llvm::Value* ni = b.CreateFPToSI(n, b.getInt32Ty());
  // n = 128 (x near 88.72) does not fit the exponent: scale by 2^(n-1) twice.
  llvm::Value* half = b.CreateAShr(ni, 1);
  llvm::Value* rest = b.CreateSub(ni, half);
  auto pow2 = [&](llvm::Value* e) {
    return b.CreateBitCast(b.CreateShl(b.CreateAdd(e, b.getInt32(127)), 23), b.getFloatTy());
  };
  llvm::Value* result = b.CreateFMul(b.CreateFMul(p, pow2(half)), pow2(rest));
  // NaN in, NaN out (the clamp would turn it into a number).
  return b.CreateSelect(b.CreateFCmpUNO(x, x), x, result);
}

// erfc(z) for z >= 0 by the Chebyshev-fitted form t * exp(-z^2 + P(t)), t = 1 / (1 + z/2),
// whose relative error is below 1.2e-7 for every z: accurate in the tail, where 1 - erf(z)
// would cancel (Gelu of negative inputs needs exactly that).
llvm::Value* emit_erfc_nonneg(llvm::IRBuilder<>& b, llvm::Value* z) {
  llvm::Value* t = b.CreateFDiv(f(b, 1.0), b.CreateFAdd(f(b, 1.0), b.CreateFMul(z, f(b, 0.5))));
  llvm::Value* p = poly(b, t, {-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806,
                               0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277});
  return b.CreateFMul(t, emit_exp(b, b.CreateFSub(p, b.CreateFMul(z, z))));
}

// erf: odd Taylor series for |x| < 0.5 (exact to float), else sign(x) * (1 - erfc(|x|)).
llvm::Value* emit_erf(llvm::IRBuilder<>& b, llvm::Value* x) {
  llvm::Value* ax = unary_intrinsic(b, llvm::Intrinsic::fabs, x);
  llvm::Value* x2 = b.CreateFMul(x, x);
  const double k = 2.0 / std::sqrt(M_PI);
  llvm::Value* small = b.CreateFMul(
      x, poly(b, x2, {k, -k / 3, k / 10, -k / 42, k / 216, -k / 1320, k / 9360}));
  llvm::Value* large = b.CreateFSub(f(b, 1.0), emit_erfc_nonneg(b, ax));
  large = b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, large, x);
  return b.CreateSelect(b.CreateFCmpOLT(ax, f(b, 0.5)), small, large);
}

// tanh: odd series for |x| < 0.125, else sign(x) * (1 - 2 / (exp(2|x|) + 1)).
llvm::Value* emit_tanh(llvm::IRBuilder<>& b, llvm::Value* x) {
  llvm::Value* ax = unary_intrinsic(b, llvm::Intrinsic::fabs, x);
  llvm::Value* x2 = b.CreateFMul(x, x);
  llvm::Value* small =
      b.CreateFMul(x, poly(b, x2, {1.0, -1.0 / 3, 2.0 / 15, -17.0 / 315, 62.0 / 2835}));
  llvm::Value* e = emit_exp(b, b.CreateFMul(ax, f(b, 2.0)));
  llvm::Value* large =
      b.CreateFSub(f(b, 1.0), b.CreateFDiv(f(b, 2.0), b.CreateFAdd(e, f(b, 1.0))));
  large = b.CreateBinaryIntrinsic(llvm::Intrinsic::copysign, large, x);
  return b.CreateSelect(b.CreateFCmpOLT(ax, f(b, 0.125)), small, large);
}

llvm::Value* emit_step(llvm::IRBuilder<>& b, const cpu_codegen::EwStep& s,
                       const std::vector<llvm::Value*>& in) {
  llvm::Value* x = in.at(0);
  switch (s.op) {
    case OpKind::Identity:
      return x;
    case OpKind::Add:
      return b.CreateFAdd(x, in.at(1));
    case OpKind::Sub:
      return b.CreateFSub(x, in.at(1));
    case OpKind::Mul:
      return b.CreateFMul(x, in.at(1));
    case OpKind::Div:
      return b.CreateFDiv(x, in.at(1));
    case OpKind::Max: {
      llvm::Value* y = in.at(1);  // NaN in either operand gives NaN, as the reference does
      llvm::Value* m = b.CreateSelect(b.CreateFCmpOGT(y, x), y, x);
      return b.CreateSelect(b.CreateFCmpUNO(x, y), b.CreateFAdd(x, y), m);
    }
    case OpKind::Min: {
      llvm::Value* y = in.at(1);
      llvm::Value* m = b.CreateSelect(b.CreateFCmpOLT(y, x), y, x);
      return b.CreateSelect(b.CreateFCmpUNO(x, y), b.CreateFAdd(x, y), m);
    }
    case OpKind::Pow:
      if (s.alpha == 2.0f) return b.CreateFMul(x, x);
      if (s.alpha == 3.0f) return b.CreateFMul(b.CreateFMul(x, x), x);
      if (s.alpha == 0.5f) return unary_intrinsic(b, llvm::Intrinsic::sqrt, x);
      return x;
    case OpKind::Relu:
      return b.CreateSelect(b.CreateFCmpOLT(x, f(b, 0.0)), f(b, 0.0), x);
    case OpKind::LeakyRelu:
      return b.CreateSelect(b.CreateFCmpOLT(x, f(b, 0.0)), b.CreateFMul(x, f(b, s.alpha)), x);
    case OpKind::Clip: {
      llvm::Value* lo = b.CreateSelect(b.CreateFCmpOLT(x, f(b, s.alpha)), f(b, s.alpha), x);
      return b.CreateSelect(b.CreateFCmpOGT(lo, f(b, s.beta)), f(b, s.beta), lo);
    }
    case OpKind::Sigmoid:
      return sigmoid(b, x);
    case OpKind::Tanh:
      return emit_tanh(b, x);
    case OpKind::Exp:
      return emit_exp(b, x);
    case OpKind::Log:
      return unary_intrinsic(b, llvm::Intrinsic::log, x);
    case OpKind::Sqrt:
      return unary_intrinsic(b, llvm::Intrinsic::sqrt, x);
    case OpKind::Neg:
      return b.CreateFNeg(x);
    case OpKind::Abs:
      return unary_intrinsic(b, llvm::Intrinsic::fabs, x);
    case OpKind::Reciprocal:
      return b.CreateFDiv(f(b, 1.0), x);
    case OpKind::Floor:
      return unary_intrinsic(b, llvm::Intrinsic::floor, x);
    case OpKind::Ceil:
      return unary_intrinsic(b, llvm::Intrinsic::ceil, x);
    case OpKind::Erf:
      return emit_erf(b, x);
    case OpKind::HardSigmoid: {
      llvm::Value* v = b.CreateFAdd(b.CreateFMul(x, f(b, s.alpha)), f(b, s.beta));
      return minf(b, maxf(b, v, f(b, 0.0)), f(b, 1.0));
    }
    case OpKind::HardSwish: {
      llvm::Value* v = b.CreateFAdd(b.CreateFMul(x, f(b, 1.0 / 6)), f(b, 0.5));
      return b.CreateFMul(x, minf(b, maxf(b, v, f(b, 0.0)), f(b, 1.0)));
    }
    case OpKind::Softplus: {
      // log(1 + exp(x)) = max(x, 0) + log(1 + exp(-|x|)), stable for large |x|.
      llvm::Value* ax = unary_intrinsic(b, llvm::Intrinsic::fabs, x);
      llvm::Value* l = unary_intrinsic(
          b, llvm::Intrinsic::log, b.CreateFAdd(f(b, 1.0), emit_exp(b, b.CreateFNeg(ax))));
      return b.CreateFAdd(maxf(b, x, f(b, 0.0)), l);
    }
    case OpKind::Gelu: {
      if (s.approximate_tanh) {
        llvm::Value* inner;
        llvm::Value* x3 = b.CreateFMul(b.CreateFMul(x, x), x);
        llvm::Value* u = b.CreateFMul(b.CreateFAdd(x, b.CreateFMul(x3, f(b, 0.044715))),
                                      f(b, std::sqrt(2.0 / M_PI)));
        inner = emit_tanh(b, u);
        return b.CreateFMul(b.CreateFMul(x, f(b, 0.5)), b.CreateFAdd(f(b, 1.0), inner));
      }
      // x * Phi(x) with Phi from erfc of |x| / sqrt(2): no cancellation for negative x.
      llvm::Value* e = emit_erfc_nonneg(
          b, b.CreateFMul(unary_intrinsic(b, llvm::Intrinsic::fabs, x), f(b, M_SQRT1_2)));
      llvm::Value* half_xe = b.CreateFMul(b.CreateFMul(x, f(b, 0.5)), e);
      return b.CreateSelect(b.CreateFCmpOLT(x, f(b, 0.0)), half_xe, b.CreateFSub(x, half_xe));
    }
    default:
      fail("codegen: no generated code for elementwise op ", op_name(s.op));
  }
}

}  // namespace kiln::llvm_codegen
