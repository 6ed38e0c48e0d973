// The activation epilogue of Kiln's fused ops (KilnFusedConv, KilnFusedMatMul): the attribute
// `activation` names the ONNX op applied last ("" = none), `activation_alpha` /
// `activation_beta` carry its parameters (LeakyRelu alpha; Clip min/max; HardSigmoid
// alpha/beta). Shared by inference, the reference kernels and the fusion passes.
#pragma once

#include <optional>
#include <string>

#include "ir/attribute.h"
#include "ir/op_kind.h"

namespace kiln {

// The op an activation name denotes; nullopt for "" (none). Fails, prefixed by `where` (a node
// label or an error prefix), for any other name: Relu, LeakyRelu, Sigmoid, Tanh, Clip, HardSigmoid,
// HardSwish, Gelu (erf form).
std::optional<OpKind> fused_activation_op(const std::string& name, const std::string& where);

// How to run the activation op alone: its attributes from a fused node's activation_alpha /
// activation_beta (absent ones take the op's ONNX defaults; Clip's bounds default to the float
// range) and the opset whose semantics apply (Clip-6 takes its bounds as attributes, which
// suits every float dtype; the others are the same at every opset, Gelu's form from 20).
struct ActivationCall {
  Attributes attrs;
  int opset = 20;
};
ActivationCall fused_activation_call(OpKind op, const Attributes& fused);

}  // namespace kiln
