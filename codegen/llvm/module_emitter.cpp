#include "codegen/llvm/module_emitter.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Support/raw_ostream.h>

#include "codegen/llvm/elementwise_math.h"
#include "ir/error.h"
#include "kiln/kernel_abi.h"

namespace kiln::llvm_codegen {
namespace {

using cpu_codegen::EwProgram;
using cpu_codegen::KernelKind;
using cpu_codegen::PlannedKernel;

// Field indices of kiln_exec_ctx and kiln_builtin_table as LLVM struct types.
enum CtxField { kCtxAbi, kCtxThreads, kCtxParallelFor, kCtxRuntime, kCtxBuiltins, kCtxReport };
enum BuiltinField {
  kTableCount,
  kTableOp,
  kTableConv2d,
  kTableSgemmPackedB,
  kTableSgemmBatched,
  kTableQConv2d,
  kTableQGemmPackedB,
};

// Elementwise work is split into chunks of this many output elements at most along the
// innermost dimension; below kInlineElements a kernel does not use the thread pool.
constexpr int64_t kChunkElements = 16384;
constexpr int64_t kInlineElements = 32768;

// The program's loop nest after merging dimensions that every operand walks contiguously
// (and dropping size-1 ones): dims[] with per-input strides[k][].
struct Collapsed {
  std::vector<int64_t> dims;
  std::vector<std::vector<int64_t>> strides;  // per input
};

Collapsed collapse(const EwProgram& p) {
  Collapsed c;
  const size_t ni = p.inputs.size();
  c.strides.resize(ni);
  for (size_t d = 0; d < p.out_dims.size(); ++d) {
    const int64_t n = p.out_dims[d];
    if (n == 1) continue;
    bool merge = !c.dims.empty();
    for (size_t k = 0; k < ni && merge; ++k)
      merge = c.strides[k].back() == p.inputs[k].strides[d] * n;
    if (merge) {
      c.dims.back() *= n;
      for (size_t k = 0; k < ni; ++k) c.strides[k].back() = p.inputs[k].strides[d];
      continue;
    }
    c.dims.push_back(n);
    for (size_t k = 0; k < ni; ++k) c.strides[k].push_back(p.inputs[k].strides[d]);
  }
  if (c.dims.empty()) {
    c.dims.push_back(1);
    for (size_t k = 0; k < ni; ++k) c.strides[k].push_back(0);
  }
  return c;
}

class Emitter {
 public:
  explicit Emitter(llvm::LLVMContext& ctx)
      : ctx_(ctx), module_(std::make_unique<llvm::Module>("kiln", ctx)), b_(ctx) {
    ptr_ = llvm::PointerType::get(ctx, 0);
    i64_ = b_.getInt64Ty();
    i32_ = b_.getInt32Ty();
    f32_ = b_.getFloatTy();
    f16_ = b_.getHalfTy();
    ctx_ty_ = llvm::StructType::create(ctx, {i32_, i32_, ptr_, ptr_, ptr_, ptr_}, "kiln_exec_ctx");
    table_ty_ =
        llvm::StructType::create(ctx, {i32_, ptr_, ptr_, ptr_, ptr_, ptr_, ptr_},
                                 "kiln_builtin_table");
    kernel_ty_ = llvm::FunctionType::get(i32_, {ptr_, ptr_, ptr_}, false);
    range_ty_ = llvm::FunctionType::get(b_.getVoidTy(), {ptr_, i64_, i64_}, false);
    epilogue_ty_ = llvm::FunctionType::get(b_.getVoidTy(), {ptr_, ptr_, i64_, i64_, i64_}, false);
    auto* abi = new llvm::GlobalVariable(*module_, i32_, true, llvm::GlobalValue::ExternalLinkage,
                                         b_.getInt32(KILN_KERNEL_ABI_VERSION),
                                         KILN_KERNEL_ABI_VERSION_SYMBOL);
    abi->setVisibility(llvm::GlobalValue::DefaultVisibility);
  }

  std::unique_ptr<llvm::Module> finish() {
    std::string err;
    llvm::raw_string_ostream os(err);
    if (llvm::verifyModule(*module_, &os)) fail("codegen: invalid LLVM IR: ", os.str());
    return std::move(module_);
  }

  void emit(const PlannedKernel& k) {
    switch (k.kind) {
      case KernelKind::Op:
        return emit_forward(k, kTableOp);
      case KernelKind::SgemmBatched:
        return emit_forward(k, kTableSgemmBatched);
      case KernelKind::Conv2d:
        return emit_gemm_like(k, kTableConv2d);
      case KernelKind::SgemmPackedB:
        return emit_gemm_like(k, kTableSgemmPackedB);
      case KernelKind::Elementwise:
        return emit_elementwise(k);
      case KernelKind::QConv2d:
        return emit_gemm_like(k, kTableQConv2d);
      case KernelKind::QGemmPackedB:
        return emit_gemm_like(k, kTableQGemmPackedB);
    }
  }

 private:
  llvm::Function* kernel_function(const std::string& symbol) {
    auto* fn = llvm::Function::Create(kernel_ty_, llvm::Function::ExternalLinkage, symbol, *module_);
    fn->addFnAttr(llvm::Attribute::NoUnwind);
    b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", fn));
    return fn;
  }

  llvm::Value* load_builtin(llvm::Value* ctx, BuiltinField field) {
    llvm::Value* table = b_.CreateLoad(ptr_, b_.CreateStructGEP(ctx_ty_, ctx, kCtxBuiltins));
    return b_.CreateLoad(ptr_, b_.CreateStructGEP(table_ty_, table, field));
  }

  llvm::Value* buffer(llvm::Value* buffers, int index) {
    return b_.CreateLoad(ptr_, b_.CreateConstGEP1_64(ptr_, buffers, index));
  }

  // The launch calls the builtin with its own buffers and parameters.
  void emit_forward(const PlannedKernel& k, BuiltinField field) {
    llvm::Function* fn = kernel_function(k.symbol);
    llvm::Value* ctx = fn->getArg(2);
    llvm::CallInst* call = b_.CreateCall(kernel_ty_, load_builtin(ctx, field),
                                         {fn->getArg(0), fn->getArg(1), ctx});
    call->setTailCall();
    b_.CreateRet(call);
  }

  // Conv2d / SgemmPackedB / QConv2d / QGemmPackedB:
  // [in, packed weights, bias|null, out, epilogue|null, closure].
  void emit_gemm_like(const PlannedKernel& k, BuiltinField field) {
    llvm::Function* epi = k.has_epilogue ? emit_epilogue(k) : nullptr;
    llvm::Function* fn = kernel_function(k.symbol);
    llvm::Value* buffers = fn->getArg(0);
    llvm::Value* args = b_.CreateAlloca(llvm::ArrayType::get(ptr_, 6));
    llvm::Value* null = llvm::ConstantPointerNull::get(ptr_);
    llvm::Value* slots[6] = {buffer(buffers, k.x), buffer(buffers, k.w),
                             k.bias >= 0 ? buffer(buffers, k.bias) : null, buffer(buffers, k.y),
                             epi ? static_cast<llvm::Value*>(epi) : null, buffers};
    for (int i = 0; i < 6; ++i) b_.CreateStore(slots[i], b_.CreateConstGEP1_64(ptr_, args, i));
    llvm::Value* rc = b_.CreateCall(kernel_ty_, load_builtin(fn->getArg(2), field),
                                    {args, fn->getArg(1), fn->getArg(2)});
    b_.CreateRet(rc);
  }

  // Offset of input `k` for output element `flat` (a linear index over the collapsed dims).
  llvm::Value* input_offset(const Collapsed& c, size_t k, llvm::Value* flat) {
    llvm::Value* off = b_.getInt64(0);
    llvm::Value* rest = flat;
    for (size_t d = c.dims.size(); d-- > 0;) {
      const int64_t s = c.strides[k][d];
      llvm::Value* coord = d == 0 ? rest : b_.CreateURem(rest, b_.getInt64(c.dims[d]));
      if (s != 0) off = b_.CreateAdd(off, b_.CreateMul(coord, b_.getInt64(s)));
      if (d > 0) rest = b_.CreateUDiv(rest, b_.getInt64(c.dims[d]));
    }
    return off;
  }

  // Evaluates the program's steps on loaded inputs; returns the last step's value.
  llvm::Value* evaluate(const EwProgram& p, std::vector<llvm::Value*> values) {
    for (const auto& step : p.steps) {
      std::vector<llvm::Value*> ops;
      for (int o : step.operands) ops.push_back(values.at(static_cast<size_t>(o)));
      values.push_back(emit_step(b_, step, ops));
    }
    return values.back();
  }

  // A counted loop [0, n) at the current insert point; `body(i)` emits one iteration.
  template <typename Body>
  void loop(llvm::Function* fn, llvm::Value* n, const char* name, Body&& body) {
    llvm::BasicBlock* pre = b_.GetInsertBlock();
    llvm::BasicBlock* head = llvm::BasicBlock::Create(ctx_, std::string(name) + ".body", fn);
    llvm::BasicBlock* exit = llvm::BasicBlock::Create(ctx_, std::string(name) + ".exit", fn);
    b_.CreateCondBr(b_.CreateICmpSGT(n, b_.getInt64(0)), head, exit);
    b_.SetInsertPoint(head);
    llvm::PHINode* i = b_.CreatePHI(i64_, 2, name);
    i->addIncoming(b_.getInt64(0), pre);
    body(i);
    llvm::Value* next = b_.CreateAdd(i, b_.getInt64(1), "", true, true);
    i->addIncoming(next, b_.GetInsertBlock());
    b_.CreateCondBr(b_.CreateICmpSLT(next, n), head, exit);
    b_.SetInsertPoint(exit);
  }

  // void epi(closure = launch buffers, c, ldc, rows, cols): input 0 is the block itself.
  llvm::Function* emit_epilogue(const PlannedKernel& k) {
    const EwProgram& p = k.program;
    const Collapsed c = collapse(p);
    auto* fn = llvm::Function::Create(epilogue_ty_, llvm::Function::InternalLinkage,
                                      k.symbol + "_epilogue", *module_);
    fn->addFnAttr(llvm::Attribute::NoUnwind);
    b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", fn));
    llvm::Value* buffers = fn->getArg(0);
    llvm::Value* block = fn->getArg(1);
    llvm::Value* ldc = fn->getArg(2);
    std::vector<llvm::Value*> bases;
    for (const auto& in : p.inputs) bases.push_back(buffer(buffers, in.buffer));
    // Element offset of the block's first element within the output.
    llvm::Value* first = b_.CreateExactSDiv(
        b_.CreatePtrDiff(b_.getInt8Ty(), block, bases[0]), b_.getInt64(sizeof(float)));
    loop(fn, fn->getArg(3), "r", [&](llvm::Value* r) {
      llvm::Value* row = b_.CreateInBoundsGEP(f32_, block, b_.CreateMul(r, ldc));
      llvm::Value* row_first = b_.CreateAdd(first, b_.CreateMul(r, ldc));
      loop(fn, fn->getArg(4), "j", [&](llvm::Value* j) {
        llvm::Value* at = b_.CreateInBoundsGEP(f32_, row, j);
        llvm::Value* flat = b_.CreateAdd(row_first, j);
        std::vector<llvm::Value*> values{b_.CreateLoad(f32_, at)};
        for (size_t in = 1; in < p.inputs.size(); ++in) {
          llvm::Value* src = b_.CreateInBoundsGEP(f32_, bases[in], input_offset(c, in, flat));
          values.push_back(b_.CreateLoad(f32_, src));
        }
        b_.CreateStore(evaluate(p, values), at);
      });
    });
    b_.CreateRetVoid();
    return fn;
  }

  // body(closure = launch buffers, begin, end) over work items; an item is one chunk of the
  // innermost collapsed dimension for one index of the outer ones.
  void emit_elementwise(const PlannedKernel& k) {
    const EwProgram& p = k.program;
    if (checked_numel(p.out_dims) == 0) {  // an empty output: nothing to compute
      kernel_function(k.symbol);
      b_.CreateRet(b_.getInt32(0));
      return;
    }
    const Collapsed c = collapse(p);
    const int64_t inner = c.dims.back();
    const int64_t chunk = std::min(inner, kChunkElements);
    const int64_t chunks = (inner + chunk - 1) / chunk;
    int64_t outer = 1;
    for (size_t d = 0; d + 1 < c.dims.size(); ++d) outer *= c.dims[d];
    const int64_t items = outer * chunks, total = outer * inner;
    Collapsed outer_dims = c;  // the outer dims alone, for input_offset on the row index
    outer_dims.dims.pop_back();
    for (auto& s : outer_dims.strides) s.pop_back();

    auto* body = llvm::Function::Create(range_ty_, llvm::Function::InternalLinkage,
                                        k.symbol + "_body", *module_);
    body->addFnAttr(llvm::Attribute::NoUnwind);
    b_.SetInsertPoint(llvm::BasicBlock::Create(ctx_, "entry", body));
    llvm::Value* buffers = body->getArg(0);
    llvm::Value* begin = body->getArg(1);
    std::vector<llvm::Value*> bases;
    for (const auto& in : p.inputs) bases.push_back(buffer(buffers, in.buffer));
    llvm::Value* out = buffer(buffers, p.out_buffer);
    llvm::Value* count = b_.CreateSub(body->getArg(2), begin);
    loop(body, count, "item", [&](llvm::Value* i) {
      llvm::Value* item = b_.CreateAdd(begin, i);
      llvm::Value* row = b_.CreateUDiv(item, b_.getInt64(chunks));
      llvm::Value* j0 = b_.CreateMul(b_.CreateURem(item, b_.getInt64(chunks)), b_.getInt64(chunk));
      llvm::Value* n = b_.CreateSub(b_.CreateBinaryIntrinsic(llvm::Intrinsic::smin,
                                                             b_.CreateAdd(j0, b_.getInt64(chunk)),
                                                             b_.getInt64(inner)),
                                    j0);
      std::vector<llvm::Value*> row_ptr;
      std::vector<int64_t> inner_stride;
      for (size_t in = 0; in < p.inputs.size(); ++in) {
        llvm::Value* off = outer_dims.dims.empty() ? b_.getInt64(0)
                                                   : input_offset(outer_dims, in, row);
        inner_stride.push_back(c.strides[in].back());
        off = b_.CreateAdd(off, b_.CreateMul(j0, b_.getInt64(inner_stride.back())));
        row_ptr.push_back(b_.CreateInBoundsGEP(elem_type(p.inputs[in].half), bases[in], off));
      }
      llvm::Type* out_ty = elem_type(p.out_half);
      llvm::Value* out_row = b_.CreateInBoundsGEP(
          out_ty, out, b_.CreateAdd(b_.CreateMul(row, b_.getInt64(inner)), j0));
      loop(body, n, "j", [&](llvm::Value* j) {
        std::vector<llvm::Value*> values;
        for (size_t in = 0; in < p.inputs.size(); ++in) {
          llvm::Type* ty = elem_type(p.inputs[in].half);
          llvm::Value* at = inner_stride[in] == 0
                                ? row_ptr[in]
                                : b_.CreateInBoundsGEP(ty, row_ptr[in],
                                                       b_.CreateMul(j, b_.getInt64(inner_stride[in])));
          llvm::Value* x = b_.CreateLoad(ty, at);
          values.push_back(p.inputs[in].half ? b_.CreateFPExt(x, f32_) : x);
        }
        llvm::Value* y = evaluate(p, values);
        if (p.out_half) y = b_.CreateFPTrunc(y, out_ty);
        b_.CreateStore(y, b_.CreateInBoundsGEP(out_ty, out_row, j));
      });
    });
    b_.CreateRetVoid();

    llvm::Function* fn = kernel_function(k.symbol);
    if (total < kInlineElements || items == 1) {
      b_.CreateCall(range_ty_, body, {fn->getArg(0), b_.getInt64(0), b_.getInt64(items)});
    } else {
      llvm::Value* ctx = fn->getArg(2);
      llvm::Value* pf = b_.CreateLoad(ptr_, b_.CreateStructGEP(ctx_ty_, ctx, kCtxParallelFor));
      auto* pf_ty = llvm::FunctionType::get(b_.getVoidTy(), {ptr_, i64_, ptr_, ptr_}, false);
      b_.CreateCall(pf_ty, pf, {ctx, b_.getInt64(items), body, fn->getArg(0)});
    }
    b_.CreateRet(b_.getInt32(0));
  }

  llvm::LLVMContext& ctx_;
  std::unique_ptr<llvm::Module> module_;
  llvm::IRBuilder<> b_;
  llvm::PointerType* ptr_;
  llvm::IntegerType *i64_, *i32_;
  llvm::Type* f32_;
  llvm::Type* f16_ = nullptr;
  llvm::Type* elem_type(bool half) const { return half ? f16_ : f32_; }
  llvm::StructType *ctx_ty_, *table_ty_;
  llvm::FunctionType *kernel_ty_, *range_ty_, *epilogue_ty_;
};

}  // namespace

std::unique_ptr<llvm::Module> emit_module(llvm::LLVMContext& context,
                                          const std::vector<PlannedKernel>& kernels) {
  Emitter e(context);
  for (const auto& k : kernels) e.emit(k);
  return e.finish();
}

}  // namespace kiln::llvm_codegen
