// Graph-matching helpers shared by the fusion and cancellation passes: single-consumer
// checks, constant operands, and rewriting a matched chain into one node that keeps the
// chain's output value (so graph output names and types survive).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace kiln {

bool is_graph_output(const Graph& g, const Value* v);

// The only node reading `v`, when `v` has exactly one use and is not a graph output; else
// nullptr. A fusion may swallow `v` only then.
Node* sole_consumer(const Graph& g, const Value* v);

// `v`'s tensor when it is a constant the caller cannot override (not a graph input).
const Tensor* constant_tensor(const Graph& g, const Value* v);

// The value of a one-element constant, converted to double.
std::optional<double> scalar_constant(const Graph& g, const Value* v);

// True when `v` is a one-element constant within `rel_tol` (relative) of `want`.
bool is_scalar_near(const Graph& g, const Value* v, double want, double rel_tol = 0.0);

// For a two-input node reading `v`, the other input (nullptr when `v` is both or neither).
Value* other_operand(const Node& n, const Value* v);

// Removes single-output node `n` and points every use of its output at `to`. When the output
// is a graph output, an Identity(to) writing it keeps its name (remove-identity later folds
// that into `to`'s producer where it can).
void bypass_node(Graph& g, Node* n, Value* to);

// Removes `n` when none of its outputs is used or a graph output; true if removed.
bool remove_if_unused(Graph& g, Node* n);

// Removes `matched` (the chain; the last one writes `out`) and adds one node writing `out`.
// Nodes are appended, so callers topo_sort once at the end of the pass.
Node* replace_chain(Graph& g, const std::vector<Node*>& matched, OpKind op,
                    std::vector<Value*> inputs, Value* out, Attributes attrs);

// A new constant named after `base` (made unique).
Value* add_constant_named(Graph& g, const std::string& base, Tensor t);

// Element-wise conversion of a float tensor to doubles and back (f32, f64, f16, bf16).
std::vector<double> float_values(const Tensor& t);
Tensor float_tensor(DType dtype, const Dims& dims, const std::vector<double>& values);

// A constant int64 list (Reshape shapes, Squeeze axes, perms), or nullopt.
std::optional<std::vector<int64_t>> constant_ints(const Graph& g, const Value* v);

}  // namespace kiln
