// cuSPARSELt's call sequence (cuda/host/cusparselt_flow.h) on a stand-in library that models stream
// order: work enqueued on a stream (the prune check's flag, an asynchronous copy) happens only when
// the stream is synchronised, as on a GPU whose stream is busy, while a plain copy happens at once. So a
// flow that read the flag without waiting for the stream would read the poison the flag starts with.
// Also: every object created is destroyed when a later step fails, and the algorithm search runs once,
// at construction, never in launch().
#include <catch2/catch.hpp>

#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "cuda/host/cusparselt_flow.h"

using namespace stcsim;
using namespace stcsim::replay;

namespace {

struct FakeLt {
  using Handle = int;
  using MatDesc = int;
  using MatmulDesc = int;
  using AlgSel = int;
  using Plan = int;
  using Stream = int;

  std::vector<std::function<void()>> pending;  // the stream's queue
  std::map<std::string, int> calls;
  int live_handles = 0, live_descs = 0, live_plans = 0, live_buffers = 0;
  std::string fail_at;   // the call that returns an error
  int valid_answer = 0;  // what the prune check writes (0: S is 2:4)
  std::size_t workspace = 256, workspace_after_search = 1024;
  bool searched = false;

  int call(const std::string& name) {
    ++calls[name];
    return name == fail_at ? 7 : 0;
  }
  int init(Handle* h) {
    if (call("init")) return 7;
    *h = 1;
    ++live_handles;
    return 0;
  }
  int destroy(Handle*) {
    --live_handles;
    return call("destroy");
  }
  int structured_desc(Handle*, MatDesc*, std::int64_t, std::int64_t, bool) {
    if (call("structured_desc")) return 7;
    ++live_descs;
    return 0;
  }
  int dense_desc(Handle*, MatDesc*, std::int64_t, std::int64_t, bool) {
    if (call("dense_desc")) return 7;
    ++live_descs;
    return 0;
  }
  int desc_destroy(MatDesc*) {
    --live_descs;
    return call("desc_destroy");
  }
  int matmul_desc(Handle*, MatmulDesc*, MatDesc*, MatDesc*, MatDesc*) { return call("matmul_desc"); }
  int alg_sel_init(Handle*, AlgSel*, MatmulDesc*) { return call("alg_sel_init"); }
  int plan_init(Handle*, Plan*, MatmulDesc*, AlgSel*) {
    if (call("plan_init")) return 7;
    ++live_plans;
    return 0;
  }
  int plan_destroy(Plan*) {
    --live_plans;
    return call("plan_destroy");
  }
  int prune_check(Handle*, MatmulDesc*, const void*, int* valid, Stream) {
    pending.push_back([this, valid] { *valid = valid_answer; });
    return call("prune_check");
  }
  int compressed_size(Handle*, Plan*, std::size_t* a, std::size_t* b) {
    *a = 100, *b = 10;
    return call("compressed_size");
  }
  int compress(Handle*, Plan*, const void*, void*, void*, Stream) { return call("compress"); }
  int workspace_size(Handle*, Plan*, std::size_t* w) {
    *w = searched ? workspace_after_search : workspace;
    return call("workspace_size");
  }
  int search(Handle*, Plan*, const void*, const void*, void*, void*, Stream) {
    searched = true;
    return call("search");
  }
  int matmul(Handle*, Plan*, const void*, const void*, void*, void*, Stream) { return call("matmul"); }
  int alg_id(Handle*, AlgSel*, int* id) {
    *id = searched ? 5 : 0;
    return call("alg_id");
  }
  int dev_alloc(void** p, std::size_t bytes) {
    if (call("dev_alloc")) return 7;
    *p = std::malloc(bytes);
    std::memset(*p, 0x5a, bytes);  // poison: what device memory holds before anything writes it
    ++live_buffers;
    return 0;
  }
  int dev_free(void* p) {
    std::free(p);
    --live_buffers;
    return call("dev_free");
  }
  int copy_to_host_async(void* dst, const void* src, std::size_t n, Stream) {
    pending.push_back([dst, src, n] { std::memcpy(dst, src, n); });
    return call("copy_to_host_async");
  }
  int stream_sync(Stream) {
    for (auto& f : pending) f();
    pending.clear();
    return call("stream_sync");
  }
  std::string describe(int s) const { return "status " + std::to_string(s); }
};

const LtShape kShape{64, 128, 32, false};

}  // namespace

TEST_CASE("cuSPARSELt flow: the prune check's flag is read after its stream finishes", "[replay][cusparselt]") {
  FakeLt api;
  char s = 0, d = 0, c = 0;
  {
    LtGemm<FakeLt> g(api, kShape, &s, &d, &c, 0, false);
    CHECK(api.calls["stream_sync"] >= 1);
    // A 2:4 S passes: had the flag been read before the stream ran, it would hold the poison.
  }
  FakeLt bad;
  bad.valid_answer = 1;
  CHECK_THROWS_WITH(LtGemm<FakeLt>(bad, kShape, &s, &d, &c, 0, false), Catch::Contains("does not accept the compressor's mask"));
  CHECK(bad.live_handles == 0);
  CHECK(bad.live_buffers == 0);
}

TEST_CASE("cuSPARSELt flow: a failure after init releases every object made so far", "[replay][cusparselt]") {
  char s = 0, d = 0, c = 0;
  for (const std::string step : {"structured_desc", "dense_desc", "matmul_desc", "plan_init", "prune_check", "compress",
                                 "workspace_size", "dev_alloc", "search"}) {
    INFO(step);
    FakeLt api;
    api.fail_at = step;
    CHECK_THROWS_WITH(LtGemm<FakeLt>(api, kShape, &s, &d, &c, 0, true), Catch::Contains("cuSPARSELt: "));
    CHECK(api.live_handles == 0);
    CHECK(api.live_descs == 0);
    CHECK(api.live_plans == 0);
    CHECK(api.live_buffers == 0);
  }
}

TEST_CASE("cuSPARSELt flow: the algorithm search runs once, before launches, and resizes the workspace", "[replay][cusparselt]") {
  char s = 0, d = 0, c = 0;
  FakeLt api;
  {
    LtGemm<FakeLt> g(api, kShape, &s, &d, &c, 0, true);
    CHECK(api.calls["search"] == 1);
    CHECK(api.calls["workspace_size"] == 2);
    CHECK(g.algorithm() == "cusparseLtMatmulSearch, config id 5");
    for (int i = 0; i < 5; ++i) g.launch();
    CHECK(api.calls["search"] == 1);
    CHECK(api.calls["matmul"] == 5);
  }
  CHECK(api.live_buffers == 0);
  CHECK(api.live_handles == 0);
  FakeLt plain;
  LtGemm<FakeLt> g(plain, kShape, &s, &d, &c, 0, false);
  CHECK(plain.calls["search"] == 0);
  CHECK(g.algorithm() == "default algorithm, config id 0");
}
