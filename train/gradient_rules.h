// Gradient rules, one per op, keyed by OpKind. A rule reads the forward node, its inputs and
// outputs and the incoming output gradients, and emits backward nodes that compute the input
// gradients (GradContext::set_dx). ops.def's Grad column says which ops have a rule; a unit
// test keeps the two in step.
#pragma once

#include "train/grad_context.h"

namespace kiln::train {

using GradFn = void (*)(GradContext&);

// The rule for `op`, or nullptr when it has none.
GradFn gradient_rule(OpKind op);

// The rules, grouped by file under train/rules/.
#define KILN_GRAD_RULES(X)                                                                       \
  /* elementwise_grads.cpp */                                                                    \
  X(Abs) X(Neg) X(Sqrt) X(Reciprocal) X(Exp) X(Log) X(Tanh) X(Sigmoid) X(Relu) X(LeakyRelu)      \
  X(Identity) X(Add) X(Sub) X(Mul) X(Div)                                                        \
  /* linalg_grads.cpp */                                                                         \
  X(MatMul) X(Gemm) X(Conv) X(MaxPool) X(AveragePool) X(GlobalAveragePool)                       \
  /* softmax_grads.cpp */                                                                        \
  X(Softmax) X(LogSoftmax) X(SoftmaxCrossEntropyLoss)                                            \
  /* shape_grads.cpp */                                                                          \
  X(Reshape) X(Flatten) X(Transpose) X(Squeeze) X(Unsqueeze) X(Concat) X(Split) X(Slice)          \
  X(Gather) X(Expand) X(Pad) X(Dropout)

#define KILN_DECLARE_GRAD(Name) void grad_##Name(GradContext& ctx);
KILN_GRAD_RULES(KILN_DECLARE_GRAD)
#undef KILN_DECLARE_GRAD

}  // namespace kiln::train
