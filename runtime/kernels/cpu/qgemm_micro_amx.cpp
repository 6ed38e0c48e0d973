// AMX int8 tile (Sapphire Rapids and later): TDPBUSD / TDPBSUD multiply a rows x 64-byte tile of
// the row operand by a 16 x 64-byte tile of the panel, 16 rows x 16 columns x 64 K per
// instruction. The packed panel ([K/4][32 columns][4 bytes]) is already AMX's B layout: two
// tiles of 16 columns read with a 128-byte row stride. Up to kQMRAmx rows per call.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "runtime/kernels/cpu/qgemm_kernel.h"

namespace kiln::cpu {
namespace {

// ldtilecfg's 64-byte operand (palette 1).
struct alignas(64) TileConfig {
  uint8_t palette = 1;
  uint8_t start_row = 0;
  uint8_t reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

// Tiles: 0, 1 = C (two 16-column halves); 2 = A (64 K); 3, 4 = B halves (64 K);
// 5 = A remainder (4 * rem K); 6, 7 = B remainder halves (rem K groups).
void configure(int nrows, int rem) {
  thread_local int configured_rows = -1, configured_rem = -1;
  if (nrows == configured_rows && rem == configured_rem) return;
  TileConfig c;
  const auto set = [&](int t, int rows, int bytes) {
    c.rows[t] = static_cast<uint8_t>(rows);
    c.colsb[t] = static_cast<uint16_t>(bytes);
  };
  set(0, nrows, 64);
  set(1, nrows, 64);
  set(2, nrows, 64);
  set(3, 16, 64);
  set(4, 16, 64);
  if (rem > 0) {
    set(5, nrows, 4 * rem);
    set(6, rem, 64);
    set(7, rem, 64);
  }
  _tile_loadconfig(&c);
  configured_rows = nrows;
  configured_rem = rem;
}

template <bool RowsSigned>
void tile(const uint8_t* rows, int64_t rs, int nrows, const uint8_t* panel, int64_t kq,
          int32_t* acc) {
  const int64_t full = kq / 16, rem = kq % 16;
  configure(nrows, static_cast<int>(rem));
  _tile_zero(0);
  _tile_zero(1);
  for (int64_t b = 0; b < full; ++b) {
    _tile_loadd(2, rows + 64 * b, rs);
    _tile_loadd(3, panel + b * 16 * 128, 128);
    _tile_loadd(4, panel + b * 16 * 128 + 64, 128);
    if constexpr (RowsSigned) {
      _tile_dpbsud(0, 2, 3);
      _tile_dpbsud(1, 2, 4);
    } else {
      _tile_dpbusd(0, 2, 3);
      _tile_dpbusd(1, 2, 4);
    }
  }
  if (rem > 0) {
    _tile_loadd(5, rows + 64 * full, rs);
    _tile_loadd(6, panel + full * 16 * 128, 128);
    _tile_loadd(7, panel + full * 16 * 128 + 64, 128);
    if constexpr (RowsSigned) {
      _tile_dpbsud(0, 5, 6);
      _tile_dpbsud(1, 5, 7);
    } else {
      _tile_dpbusd(0, 5, 6);
      _tile_dpbusd(1, 5, 7);
    }
  }
  _tile_stored(0, acc, kQNR * 4);
  _tile_stored(1, acc + 16, kQNR * 4);
}

}  // namespace

void qtile_amx(const uint8_t* rows, int64_t row_stride, int nrows, const uint8_t* panel,
               int64_t kq, bool rows_signed, int32_t* acc) {
  if (rows_signed)
    tile<true>(rows, row_stride, nrows, panel, kq, acc);
  else
    tile<false>(rows, row_stride, nrows, panel, kq, acc);
}

}  // namespace kiln::cpu
