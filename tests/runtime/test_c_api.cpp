// The runtime C API end to end, with a code section built from C kernels at test time.
#include <gtest/gtest.h>

#include <thread>

#include "kiln/kiln.h"
#include "kiln/kiln.hpp"
#include "tests/runtime/runtime_test_fixture.h"

namespace kiln {
namespace {

using test::kCols;
using test::kRows;

struct StatusGuard {  // frees a status at scope exit
  kiln_status* s;
  ~StatusGuard() { kiln_status_destroy(s); }
};

// Expects `s` to fail with `code` and a one-line message containing `text`.
void expect_error(kiln_status* s, kiln_status_code code, const std::string& text) {
  StatusGuard g{s};
  ASSERT_NE(s, nullptr) << "expected failure: " << text;
  EXPECT_EQ(kiln_status_get_code(s), code) << kiln_status_message(s);
  const std::string m = kiln_status_message(s);
  EXPECT_NE(m.find(text), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
}

std::vector<float> output_floats(const rt::Session& s, size_t index) {
  const kiln_tensor_view v = s.output(index);
  const auto* p = static_cast<const float*>(v.data);
  return std::vector<float>(p, p + v.bytes / 4);
}

void run_and_check(rt::Session& s, int seed) {
  const std::vector<float> x = test::test_input(seed);
  const int64_t dims[] = {kRows, kCols};
  s.bind_input(0, x.data(), KILN_DTYPE_F32, 2, dims);
  s.run();
  std::vector<float> y, z;
  test::reference_outputs(x, &y, &z);
  EXPECT_EQ(output_floats(s, 0), y);
  EXPECT_EQ(output_floats(s, 1), z);
}

TEST(RuntimeApi, LoadFromMemoryAndFileAndRun) {
  KILN_REQUIRE_TEST_KERNELS();
  const std::vector<uint8_t> bytes = test::test_model_bytes();
  rt::Context ctx(2);
  EXPECT_EQ(kiln_context_num_threads(ctx.get()), 2);
  rt::Model from_memory = rt::Model::load_memory(ctx, bytes.data(), bytes.size());
  const auto dir = test::fresh_test_dir("capi_load");
  test::write_bytes(dir / "m.kiln", bytes);
  rt::Model from_file = rt::Model::load_file(ctx, (dir / "m.kiln").string());
  for (const rt::Model* m : {&from_memory, &from_file}) {
    ASSERT_EQ(m->num_inputs(), 1u);
    ASSERT_EQ(m->num_outputs(), 2u);
    const kiln_tensor_info in = m->input(0);
    EXPECT_STREQ(in.name, "x");
    EXPECT_EQ(in.dtype, KILN_DTYPE_F32);
    ASSERT_EQ(in.rank, 2);
    EXPECT_EQ(in.dims[1], kCols);
    EXPECT_STREQ(m->output(1).name, "z");
    EXPECT_EQ(kiln_model_arena_bytes(m->get()), 320u);
    EXPECT_EQ(kiln_model_num_launches(m->get()), 3u);
    size_t index = 9;
    ASSERT_EQ(kiln_model_find_input(m->get(), "x", &index), nullptr);
    EXPECT_EQ(index, 0u);
    rt::Session s(*m);
    run_and_check(s, 1);
    run_and_check(s, 2);  // rebinding and rerunning a session
  }
}

TEST(RuntimeApi, CopiedInputsAndDestroyOrder) {
  KILN_REQUIRE_TEST_KERNELS();
  const std::vector<uint8_t> bytes = test::test_model_bytes();
  kiln_context* ctx = nullptr;
  ASSERT_EQ(kiln_context_create(nullptr, &ctx), nullptr);
  kiln_model* model = nullptr;
  ASSERT_EQ(kiln_model_load_memory(ctx, bytes.data(), bytes.size(), &model), nullptr);
  kiln_session* s = nullptr;
  ASSERT_EQ(kiln_session_create(model, &s), nullptr);
  kiln_model_destroy(model);  // the session keeps what it needs alive
  kiln_context_destroy(ctx);
  std::vector<float> x = test::test_input(5);
  const std::vector<float> x_copy = x;
  const int64_t dims[] = {kRows, kCols};
  ASSERT_EQ(kiln_session_bind_input_by_name(s, "x", x.data(), KILN_DTYPE_F32, 2, dims, KILN_COPY),
            nullptr);
  std::fill(x.begin(), x.end(), 100.0f);  // a copied input no longer depends on the buffer
  ASSERT_EQ(kiln_session_run(s), nullptr);
  kiln_tensor_view v{};
  ASSERT_EQ(kiln_session_output(s, 1, &v), nullptr);
  std::vector<float> y, z;
  test::reference_outputs(x_copy, &y, &z);
  EXPECT_EQ(
      std::vector<float>(static_cast<const float*>(v.data), static_cast<const float*>(v.data) + 4),
      z);
  kiln_session_destroy(s);
}

TEST(RuntimeApi, BindAndRunErrors) {
  KILN_REQUIRE_TEST_KERNELS();
  const std::vector<uint8_t> bytes = test::test_model_bytes();
  rt::Context ctx(1);
  rt::Model m = rt::Model::load_memory(ctx, bytes.data(), bytes.size());
  rt::Session s(m);
  kiln_session* h = s.get();
  expect_error(kiln_session_run(h), KILN_STATUS_FAILED_PRECONDITION, "input 'x' is not bound");
  kiln_tensor_view v{};
  expect_error(kiln_session_output(h, 0, &v), KILN_STATUS_FAILED_PRECONDITION, "no successful run");
  const std::vector<float> x(kRows * kCols, 1.0f);
  const int64_t good[] = {kRows, kCols}, bad[] = {kCols, kRows};
  expect_error(kiln_session_bind_input(h, 0, x.data(), KILN_DTYPE_F32, 2, bad, KILN_BORROW),
               KILN_STATUS_INVALID_ARGUMENT, "input 'x': expected f32[4x16], got f32[16x4]");
  expect_error(kiln_session_bind_input(h, 0, x.data(), KILN_DTYPE_I32, 2, good, KILN_BORROW),
               KILN_STATUS_INVALID_ARGUMENT, "input 'x': expected f32[4x16], got i32[4x16]");
  expect_error(
      kiln_session_bind_input(h, 0, x.data(), static_cast<kiln_dtype>(99), 2, good, KILN_BORROW),
      KILN_STATUS_INVALID_ARGUMENT, "got dtype code 99");
  expect_error(kiln_session_bind_input(h, 1, x.data(), KILN_DTYPE_F32, 2, good, KILN_BORROW),
               KILN_STATUS_INVALID_ARGUMENT, "input index 1 is out of range");
  expect_error(
      kiln_session_bind_input_by_name(h, "nope", x.data(), KILN_DTYPE_F32, 2, good, KILN_BORROW),
      KILN_STATUS_NOT_FOUND, "no input named 'nope' (inputs: x)");
  expect_error(kiln_session_bind_input(h, 0, reinterpret_cast<const char*>(x.data()) + 1,
                                       KILN_DTYPE_F32, 2, good, KILN_BORROW),
               KILN_STATUS_INVALID_ARGUMENT, "not aligned");
  expect_error(kiln_session_bind_input(nullptr, 0, x.data(), KILN_DTYPE_F32, 2, good, KILN_BORROW),
               KILN_STATUS_INVALID_ARGUMENT, "session is null");
  kiln_tensor_info info{};
  expect_error(kiln_model_output_info(m.get(), 2, &info), KILN_STATUS_INVALID_ARGUMENT,
               "output index 2");
}

TEST(RuntimeApi, KernelFailureIsReported) {
  KILN_REQUIRE_TEST_KERNELS();
  const std::vector<uint8_t> bytes = test::test_model_bytes(/*fail_at_end=*/true);
  rt::Context ctx(1);
  rt::Model m = rt::Model::load_memory(ctx, bytes.data(), bytes.size());
  rt::Session s(m);
  const std::vector<float> x(kRows * kCols, 1.0f);
  const int64_t dims[] = {kRows, kCols};
  s.bind_input(0, x.data(), KILN_DTYPE_F32, 2, dims);
  expect_error(kiln_session_run(s.get()), KILN_STATUS_INTERNAL,
               "kernel 'test_fail' (Custom 'bad0') failed with code 7");
}

TEST(RuntimeApi, LoadErrors) {
  rt::Context ctx(1);
  kiln_model* m = nullptr;
  expect_error(kiln_model_load_file(ctx.get(), "/nonexistent/m.kiln", &m), KILN_STATUS_NOT_FOUND,
               "cannot open '/nonexistent/m.kiln'");
  EXPECT_EQ(m, nullptr);
  const auto dir = test::fresh_test_dir("capi_load_err");
  test::write_bytes(dir / "empty.kiln", {});
  expect_error(kiln_model_load_file(ctx.get(), (dir / "empty.kiln").c_str(), &m),
               KILN_STATUS_INVALID_ARTIFACT, "truncated: 0 bytes");
  const std::vector<uint8_t> junk(500, 'j');
  expect_error(kiln_model_load_memory(ctx.get(), junk.data(), junk.size(), &m),
               KILN_STATUS_INVALID_ARTIFACT, "model in memory: not a .kiln file");
  expect_error(kiln_model_load_file(ctx.get(), dir.c_str(), &m), KILN_STATUS_INVALID_ARGUMENT,
               "is not a regular file");
  kiln_context_options bad{-2};
  kiln_context* c = nullptr;
  expect_error(kiln_context_create(&bad, &c), KILN_STATUS_INVALID_ARGUMENT, "num_threads -2");
}

TEST(RuntimeApi, CodeSectionProblems) {
  KILN_REQUIRE_TEST_KERNELS();
  rt::Context ctx(1);
  kiln_model* m = nullptr;
  // A launch naming a symbol the shared object does not export.
  artifact::ArtifactMeta meta = test::test_model_meta(0);
  meta.launches[1].symbol = "no_such_kernel";
  const std::vector<float> w = test::test_weights();
  const std::vector<uint8_t> wb(reinterpret_cast<const uint8_t*>(w.data()),
                                reinterpret_cast<const uint8_t*>(w.data()) + w.size() * 4);
  std::vector<uint8_t> f = artifact::serialize_artifact(meta, wb, *test::test_kernel_so());
  expect_error(kiln_model_load_memory(ctx.get(), f.data(), f.size(), &m),
               KILN_STATUS_INVALID_ARTIFACT, "does not export kernel 'no_such_kernel'");
  // An ELF header that is not a loadable object.
  std::vector<uint8_t> fake = {0x7f, 'E', 'L', 'F', 0, 0, 0, 0};
  f = artifact::serialize_artifact(test::test_model_meta(0), wb, fake);
  expect_error(kiln_model_load_memory(ctx.get(), f.data(), f.size(), &m),
               KILN_STATUS_INVALID_ARTIFACT, "cannot load the CODE section");
}

TEST(RuntimeApi, ConcurrentRunsOnOneModel) {
  KILN_REQUIRE_TEST_KERNELS();
  const std::vector<uint8_t> bytes = test::test_model_bytes();
  rt::Context ctx(3);  // kernels' parallel_for shares one pool across the sessions
  rt::Model m = rt::Model::load_memory(ctx, bytes.data(), bytes.size());
  constexpr int kThreads = 4, kRuns = 50;
  std::vector<std::vector<std::vector<float>>> got(kThreads);
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        rt::Session s(m);
        const int64_t dims[] = {kRows, kCols};
        for (int r = 0; r < kRuns; ++r) {
          const std::vector<float> x = test::test_input(r);
          s.bind_input(0, x.data(), KILN_DTYPE_F32, 2, dims);
          s.run();
          got[t].push_back(output_floats(s, 1));
        }
      } catch (const std::exception& e) {
        errors[t] = e.what();
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(errors[t], "");
    for (int r = 0; r < kRuns; ++r) {
      std::vector<float> y, z;
      test::reference_outputs(test::test_input(r), &y, &z);
      ASSERT_EQ(got[t][r], z) << "thread " << t << " run " << r;
      ASSERT_EQ(got[t][r], got[0][r]);
    }
  }
}

TEST(RuntimeApi, Profiling) {
  KILN_REQUIRE_TEST_KERNELS();
  const std::vector<uint8_t> bytes = test::test_model_bytes();
  rt::Context ctx(1);
  rt::Model m = rt::Model::load_memory(ctx, bytes.data(), bytes.size());
  rt::Session s(m);
  const std::vector<float> x = test::test_input(0);
  const int64_t dims[] = {kRows, kCols};
  s.bind_input(0, x.data(), KILN_DTYPE_F32, 2, dims);
  s.run();
  kiln_launch_profile p{};
  expect_error(kiln_session_launch_profile(s.get(), 0, &p), KILN_STATUS_FAILED_PRECONDITION,
               "no profiled run");
  s.set_profiling(true);
  s.run();
  uint64_t prev_end = 0;
  const char* names[] = {"add0", "relu0", "sum0"};
  for (size_t i = 0; i < 3; ++i) {
    p = s.launch_profile(i);
    EXPECT_STREQ(p.node_name, names[i]);
    EXPECT_GE(p.start_ns, prev_end);
    prev_end = p.start_ns + p.duration_ns;
  }
  EXPECT_STREQ(s.launch_profile(2).op, "ReduceSum");
  EXPECT_STREQ(s.launch_profile(0).symbol, "test_add_bias");
}

}  // namespace
}  // namespace kiln
