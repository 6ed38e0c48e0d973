// Internal, included by the outvec ISA files: picks the register-tile instantiation for a
// (panels, rows, pixels, width stride) request. `Tile<CO, R, Q, SW>::run` is the ISA file's
// tile; kMaxP[CO] is the most pixels a tile of CO panels holds (its accumulator budget).
#pragma once

#include <array>
#include <utility>

#include "runtime/kernels/cpu/conv_outvec.h"

namespace kiln::cpu::outvec {

using TileFn = void (*)(const OutvecTile&);

template <template <int, int, int, int> class Tile, int CO, int R, int SW, int... Qs>
constexpr std::array<TileFn, sizeof...(Qs)> row(std::integer_sequence<int, Qs...>) {
  return {&Tile<CO, R, Qs + 1, SW>::run...};
}

// Tiles of CO panels x R rows x Q pixels, Q in [1, MaxP / R].
template <template <int, int, int, int> class Tile, int MaxP, int CO, int R, int SW>
TileFn pick(int q) {
  static constexpr auto fns =
      row<Tile, CO, R, SW>(std::make_integer_sequence<int, MaxP / R>{});
  return fns[q - 1];
}

template <template <int, int, int, int> class Tile, int MaxP1, int MaxP2, int MaxP3, int SW>
TileFn pick(int co, int r, int q) {
  switch (co * 2 + r - 1) {
    case 2:
      return pick<Tile, MaxP1, 1, 1, SW>(q);
    case 3:
      return pick<Tile, MaxP1, 1, 2, SW>(q);
    case 4:
      return pick<Tile, MaxP2, 2, 1, SW>(q);
    case 5:
      return pick<Tile, MaxP2, 2, 2, SW>(q);
    case 6:
      return pick<Tile, MaxP3, 3, 1, SW>(q);
    default:
      return pick<Tile, MaxP3, 3, 2, SW>(q);
  }
}

// Runs the tile for (co, rows, q) at width stride sw (1 or 2).
template <template <int, int, int, int> class Tile, int MaxP1, int MaxP2, int MaxP3>
void run_tile(int co, int rows, int q, int sw, const OutvecTile& t) {
  (sw == 1 ? pick<Tile, MaxP1, MaxP2, MaxP3, 1>(co, rows, q)
           : pick<Tile, MaxP1, MaxP2, MaxP3, 2>(co, rows, q))(t);
}

}  // namespace kiln::cpu::outvec
