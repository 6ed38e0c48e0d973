// Einsum equation parsing, shared by Einsum's shape inference and its reference kernel.
// "ij,jk->ik", implicit output ("ij,jk" = "ij,jk->ik"), ellipsis ("...ij,...jk"), repeated
// labels within a term (diagonals: "ii->i"), any number of operands, spaces ignored.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

// Each axis of each term gets a label id: letters 'A'..'Z' are 0..25, 'a'..'z' are 26..51
// (ASCII order, so implicit outputs sort like numpy), and the ellipsis' broadcast axes are
// 52 + k, right-aligned across operands (the last ellipsis axis of every term is the same id).
struct EinsumEquation {
  static constexpr int kLetters = 52;
  std::vector<std::vector<int>> inputs;  // one label per axis of each operand
  std::vector<int> output;               // one label per output axis
  int ellipsis_rank = 0;                 // broadcast axes the ellipsis stands for
  int num_labels() const { return kLetters + ellipsis_rank; }
};

// Parses `equation` for operands of the given ranks (-1 = unknown rank, allowed only for a
// term without an ellipsis). Fails with `where` prefixed on any malformed equation.
EinsumEquation parse_einsum(const std::string& equation, const std::vector<int64_t>& ranks,
                            const std::string& where);

}  // namespace kiln
