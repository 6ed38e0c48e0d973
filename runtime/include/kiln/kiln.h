/* Kiln runtime C API: load a compiled `.kiln` model and run it.
 *
 * Objects are opaque handles named kiln_<object>_<verb>. Every fallible call returns a
 * `kiln_status*`: NULL means success; otherwise the caller owns the status, reads its code and
 * one-line message, and frees it with kiln_status_destroy. No C++ exception crosses this API.
 *
 * Threading: a context and a model are immutable after creation and may be used from any
 * number of threads at once. A session (one activation arena, bound inputs, outputs, profile)
 * belongs to one thread at a time; run one model concurrently with one session per thread.
 * Objects keep what they depend on alive, so they may be destroyed in any order.
 */
#ifndef KILN_KILN_H_
#define KILN_KILN_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- status */
typedef enum kiln_status_code {
  KILN_STATUS_OK = 0,
  KILN_STATUS_INVALID_ARGUMENT = 1,    /* a bad call: null handle, wrong dtype/shape, bad index */
  KILN_STATUS_NOT_FOUND = 2,           /* a file or a named input that does not exist */
  KILN_STATUS_INVALID_ARTIFACT = 3,    /* a corrupt, truncated or inconsistent .kiln file */
  KILN_STATUS_UNSUPPORTED = 4,         /* valid, but not for this runtime: version, CPU features */
  KILN_STATUS_FAILED_PRECONDITION = 5, /* e.g. run with an input not bound */
  KILN_STATUS_OUT_OF_MEMORY = 6,
  KILN_STATUS_INTERNAL = 7, /* a kernel reported failure, or a bug */
} kiln_status_code;

typedef struct kiln_status kiln_status;
kiln_status_code kiln_status_get_code(const kiln_status* status); /* NULL -> KILN_STATUS_OK */
const char* kiln_status_message(const kiln_status* status);       /* NULL -> "ok" */
void kiln_status_destroy(kiln_status* status);
const char* kiln_status_code_name(kiln_status_code code); /* "invalid artifact", ... */

/* ---- element types: numbered as ONNX TensorProto.DataType, like Kiln's IR.
   kiln_dtype is a plain int32_t so a caller's out-of-range value is an error, not undefined
   behaviour. */
typedef int32_t kiln_dtype;
enum kiln_dtype_code {
  KILN_DTYPE_F32 = 1,
  KILN_DTYPE_U8 = 2,
  KILN_DTYPE_I8 = 3,
  KILN_DTYPE_U16 = 4,
  KILN_DTYPE_I16 = 5,
  KILN_DTYPE_I32 = 6,
  KILN_DTYPE_I64 = 7,
  KILN_DTYPE_BOOL = 9,
  KILN_DTYPE_F16 = 10,
  KILN_DTYPE_F64 = 11,
  KILN_DTYPE_U32 = 12,
  KILN_DTYPE_U64 = 13,
  KILN_DTYPE_BF16 = 16,
};
size_t kiln_dtype_size(kiln_dtype dtype);      /* bytes per element; 0 if unknown */
const char* kiln_dtype_name(kiln_dtype dtype); /* "f32", ...; "?" if unknown */

/* ---- context: what runs the kernels: the CPU and its thread pool, or an OpenCL device */
typedef struct kiln_context kiln_context;
typedef struct kiln_context_options {
  int32_t num_threads; /* threads kernels may use, caller included; 0 = all hardware threads */
} kiln_context_options;
/* options may be NULL for the defaults. */
kiln_status* kiln_context_create(const kiln_context_options* options, kiln_context** out);
/* Same, on a named device: "cpu", "opencl", or NULL / "" / "auto" (what kiln_context_create
 * gives): each model runs on the device its artifact was compiled for. On "opencl" the device
 * is opened now (KILN_OPENCL_PLATFORM / KILN_OPENCL_DEVICE pick it by case-insensitive name
 * substring; default the first device of the first platform), and loading a CPU artifact fails;
 * on "cpu", loading an OpenCL artifact fails. No OpenCL device, or a runtime built without
 * OpenCL: KILN_STATUS_UNSUPPORTED with one line saying why. Host-fallback ops of OpenCL models
 * run on the context's threads. "cuda" likewise opens the GPU KILN_CUDA_DEVICE (ordinal,
 * default 0); without a driver or device it fails with one line (e.g. "no CUDA driver
 * (libcuda.so.1 not found)"). */
kiln_status* kiln_context_create_for_device(const kiln_context_options* options,
                                            const char* device, kiln_context** out);
void kiln_context_destroy(kiln_context* context);
int32_t kiln_context_num_threads(const kiln_context* context);
const char* kiln_context_device(const kiln_context* context); /* "auto", "cpu", "opencl", "cuda" */

/* ---- model: a validated artifact with its code loaded, immutable */
typedef struct kiln_model kiln_model;
/* Maps the file, validates it (magic, version, checksum, bounds, CPU features) and loads its
 * code. Fails with one line naming the file and what is wrong. */
kiln_status* kiln_model_load_file(kiln_context* context, const char* path, kiln_model** out);
/* Same from bytes in memory; the bytes are copied, so the caller may free them afterwards. */
kiln_status* kiln_model_load_memory(kiln_context* context, const void* data, size_t size,
                                    kiln_model** out);
void kiln_model_destroy(kiln_model* model);

/* Describes a model input or output. Pointers stay valid while the model lives. */
typedef struct kiln_tensor_info {
  const char* name;
  kiln_dtype dtype;
  int32_t rank;
  const int64_t* dims;
} kiln_tensor_info;
size_t kiln_model_num_inputs(const kiln_model* model);
size_t kiln_model_num_outputs(const kiln_model* model);
kiln_status* kiln_model_input_info(const kiln_model* model, size_t index, kiln_tensor_info* out);
kiln_status* kiln_model_output_info(const kiln_model* model, size_t index, kiln_tensor_info* out);
/* Index of the input named `name`; KILN_STATUS_NOT_FOUND lists the model's inputs. */
kiln_status* kiln_model_find_input(const kiln_model* model, const char* name, size_t* index);
uint64_t kiln_model_arena_bytes(const kiln_model* model); /* activation memory per session */
size_t kiln_model_num_launches(const kiln_model* model);  /* kernels per run */
/* Where the model runs: "cpu", "opencl" or "cuda"; and a description such as
 * "OpenCL: <device name> (<platform name>)". Valid while the model lives. */
const char* kiln_model_device(const kiln_model* model);
const char* kiln_model_device_description(const kiln_model* model);

/* ---- session: one arena + bindings; runs the model */
typedef struct kiln_session kiln_session;
kiln_status* kiln_session_create(kiln_model* model, kiln_session** out);
void kiln_session_destroy(kiln_session* session);

typedef enum kiln_ownership {
  KILN_BORROW = 0, /* use the caller's buffer; it must stay valid and unchanged until run ends */
  KILN_COPY = 1,   /* copy the bytes now */
} kiln_ownership;
/* Binds input `index` to `data` holding a tensor of `dtype` and dims[0..rank). dtype and dims
 * must equal the model's declaration; the message says what was expected. A borrowed buffer
 * must be aligned to its element size. */
kiln_status* kiln_session_bind_input(kiln_session* session, size_t index, const void* data,
                                     kiln_dtype dtype, int32_t rank, const int64_t* dims,
                                     kiln_ownership ownership);
kiln_status* kiln_session_bind_input_by_name(kiln_session* session, const char* name,
                                             const void* data, kiln_dtype dtype, int32_t rank,
                                             const int64_t* dims, kiln_ownership ownership);
/* Runs every kernel in order. Fails if an input is not bound or a kernel reports an error. */
kiln_status* kiln_session_run(kiln_session* session);

/* Output `index` of the last successful run. The data pointer is owned by the session and
 * valid until the next run or kiln_session_destroy. */
typedef struct kiln_tensor_view {
  kiln_tensor_info info;
  const void* data;
  size_t bytes;
} kiln_tensor_view;
kiln_status* kiln_session_output(const kiln_session* session, size_t index, kiln_tensor_view* out);

/* ---- profiling: per-kernel wall time of each run while enabled (off by default) */
void kiln_session_set_profiling(kiln_session* session, int enabled);
typedef struct kiln_launch_profile {
  const char* node_name; /* the graph node the kernel computes */
  const char* op;        /* its op type, e.g. "Conv" */
  const char* symbol;    /* the kernel symbol in the code section */
  uint64_t start_ns;     /* from the start of the run */
  uint64_t duration_ns;
} kiln_launch_profile;
/* Timing of launch `index` (0 <= index < kiln_model_num_launches) in the last profiled run. */
kiln_status* kiln_session_launch_profile(const kiln_session* session, size_t index,
                                         kiln_launch_profile* out);

#ifdef __cplusplus
}
#endif

#endif /* KILN_KILN_H_ */
