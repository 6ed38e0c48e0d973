// Reads and validates a `.kiln` file image. Every check the runtime relies on happens here,
// before any code is loaded: magic, format version, size, checksum, kernel ABI version, the
// section table (known kinds, 64-byte alignment, inside the file, no overlap), every string,
// count, dim and element count, and every launch argument against its buffer (arena, weights,
// input, output). Failures throw kiln::Error with one line naming the file and the problem;
// a valid file this runtime cannot run (newer version, other ABI, unknown or missing CPU
// features) throws kiln::Unsupported.
#pragma once

#include <string>

#include "runtime/artifact/artifact_format.h"

namespace kiln::artifact {

struct ParsedArtifact {
  ArtifactMeta meta;
  const uint8_t* weights = nullptr;  // points into the parsed image, 64-byte aligned in the file
  uint64_t weights_bytes = 0;
  const uint8_t* code = nullptr;
  uint64_t code_bytes = 0;
};

// `what` names the source in messages ("'model.kiln'"). The image must outlive the result.
// Checks required CPU features against `host_features` (pass host_cpu_features()).
ParsedArtifact parse_artifact(const uint8_t* data, uint64_t size, const std::string& what,
                              uint64_t host_features);

// Bytes of a tensor with this signature; throws on overflow or beyond kMaxTensorBytes.
uint64_t signature_bytes(const TensorSignature& t, const std::string& what);

}  // namespace kiln::artifact
