// The shipped workloads (workloads/*.yaml): each loads and makes valid traces, and their MACs and
// parameter counts match the figures published for the models.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>

#include "workload/workload.h"

using namespace stcsim;

namespace {

std::string workload_dir() { return std::string(STCSIM_SOURCE_DIR) + "/workloads"; }

Workload shipped(const std::string& name) { return load_workload(workload_dir() + "/" + name + ".yaml"); }

// One sample (image or sequence): batch 1, at the workload's default sequence length.
TraceTotals per_sample(const Workload& w, std::optional<std::int64_t> seq = std::nullopt) {
  return trace_totals(generate_trace(w, 1, w.takes_seq() ? seq.value_or(*w.default_seq) : seq, "dense"));
}

// Convolution layers, each repeat counted (a grouped conv is still one layer).
std::int64_t conv_layers(const Workload& w) {
  const Trace t = generate_trace(w, 1, w.default_seq, "dense");
  std::int64_t n = 0;
  for (std::size_t i = 0; i < w.layers.size(); ++i) {
    if (w.layers[i].conv) n += t.ops[i].count;
  }
  return n;
}

double rel(double got, double published) { return (got - published) / published; }

}  // namespace

TEST_CASE("every workload in workloads/ loads and makes valid traces", "[workload][shipped]") {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(workload_dir())) {
    if (entry.path().extension() != ".yaml") continue;
    ++files;
    INFO(entry.path().string());
    const Workload w = load_workload(entry.path().string());
    CHECK(w.name == entry.path().stem().string());
    CHECK(w.dtype == DType::fp16);
    const std::optional<std::int64_t> seq = w.default_seq;
    for (const std::string pattern : {"dense", "2:4", "1:8"}) {
      const Trace t = generate_trace(w, w.default_batch, seq, pattern);
      REQUIRE(t.ops.size() == w.layers.size());
      CHECK(parse_trace(format_trace(t, trace_comment(w, t, "test")), "rt", builtin_registry()).ops == t.ops);
      for (const auto& g : t.ops) {
        CHECK(g.layer.rfind(w.name + ".", 0) == 0);
        CHECK(g.pattern == (g.sparse == Operand::none ? "dense" : pattern));
      }
    }
    // Every GEMM scales with the batch: its MACs double when the batch does.
    const auto one = trace_totals(generate_trace(w, 1, seq, "dense"));
    const auto two = trace_totals(generate_trace(w, 2, seq, "dense"));
    CHECK(two.dense_macs == 2 * one.dense_macs);
    CHECK(two.weight_elements == one.weight_elements);
  }
  CHECK(files >= 7);
}

// Published costs of torchvision's models (its documentation lists "GFLOPS" that are multiply-
// accumulates, counted by fvcore, and parameters including biases and batch norm). Our parameters
// are the weight GEMMs' N*K only, so they come out slightly lower.
TEST_CASE("CNN MACs and parameters match the published figures", "[workload][shipped][macs]") {
  struct Published {
    double gmacs;
    double mparams;
    std::int64_t convs;
  };
  const std::map<std::string, Published> published = {
      {"resnet-50", {4.09, 25.557, 53}},  // torchvision resnet50 (v1.5): 4.09 GFLOPS, 25,557,032 parameters
      {"vgg-16", {15.47, 138.358, 13}},   // torchvision vgg16: 15.47 GFLOPS, 138,357,544 parameters
      {"alexnet", {0.71, 61.101, 5}},     // torchvision alexnet: 0.71 GFLOPS, 61,100,840 parameters
      {"vit-b16", {17.56, 86.568, 1}},    // torchvision vit_b_16: 17.56 GFLOPS, 86,567,656 parameters
  };
  for (const auto& [name, p] : published) {
    INFO(name);
    const Workload w = shipped(name);
    const TraceTotals s = per_sample(w);
    const double gmacs = static_cast<double>(s.dense_macs) * 1e-9;
    const double mparams = static_cast<double>(s.weight_elements) * 1e-6;
    CHECK(std::abs(rel(gmacs, p.gmacs)) < 0.01);
    CHECK(std::abs(rel(mparams, p.mparams)) < 0.005);
    CHECK(conv_layers(w) == p.convs);
  }
  // Exact sums from the layer tables, so that a wrong channel count cannot hide inside a tolerance.
  CHECK(per_sample(shipped("resnet-50")).dense_macs == 4089184256ULL);
  CHECK(per_sample(shipped("vgg-16")).dense_macs == 15470264320ULL);
  CHECK(per_sample(shipped("alexnet")).dense_macs == 714188480ULL);
  CHECK(per_sample(shipped("alexnet")).weight_elements == 61090496ULL);
}

// Transformer weights: 4 d^2 (attention) + 2 d d_ff (feed-forward) per encoder layer. MACs per
// sequence: every token meets every weight once, plus attention's two seq x seq GEMMs per layer
// (scores and context, each seq^2 * d MACs).
TEST_CASE("transformer parameters and MACs match their definitions", "[workload][shipped][macs]") {
  const auto layer = [](std::uint64_t d, std::uint64_t ff) { return 4 * d * d + 2 * d * ff; };

  // BERT (Devlin et al. 2019): encoder weights exactly; with the embedding tables (30522-token
  // WordPiece vocabulary, 512 positions, 2 segments) and the pooler, the published 110M and 340M.
  const std::uint64_t base_weights = 12 * layer(768, 3072);
  const std::uint64_t large_weights = 24 * layer(1024, 4096);
  CHECK(base_weights == 84934656ULL);
  CHECK(large_weights == 301989888ULL);
  const Workload base = shipped("bert-base");
  const Workload large = shipped("bert-large");
  CHECK(per_sample(base).weight_elements == base_weights);
  CHECK(per_sample(large).weight_elements == large_weights);
  const auto with_embeddings = [](std::uint64_t weights, double h) {
    return (weights + (30522 + 512 + 2) * h + h * h) * 1e-6;
  };
  CHECK(std::abs(rel(with_embeddings(base_weights, 768), 110)) < 0.01);    // 109.4M
  CHECK(std::abs(rel(with_embeddings(large_weights, 1024), 340)) < 0.02);  // 334.8M
  for (std::uint64_t seq : {128, 512}) {
    CHECK(per_sample(base, seq).dense_macs == seq * base_weights + 12 * 2 * seq * seq * 768);
    CHECK(per_sample(large, seq).dense_macs == seq * large_weights + 24 * 2 * seq * seq * 1024);
  }
  CHECK(per_sample(base, 128).dense_macs == 11173625856ULL);  // 11.2 GMACs per 128-token sequence

  // GPT-2 small: 12 layers plus the tied LM head (vocab x d); the released model has 124,439,808
  // parameters, the rest being position embeddings (1024 x 768), biases and layer norms.
  const Workload gpt2 = shipped("gpt2");
  const std::uint64_t gpt2_weights = 12 * layer(768, 3072) + 50257ULL * 768;
  CHECK(per_sample(gpt2).weight_elements == gpt2_weights);
  CHECK(std::abs(rel(static_cast<double>(gpt2_weights) * 1e-6, 124.44)) < 0.01);
  CHECK(per_sample(gpt2, 1024).dense_macs == 1024 * gpt2_weights + 12 * 2 * 1024ULL * 1024 * 768);

  // Transformer base: 6 encoder layers, 6 decoder layers with a second (cross) attention, and the
  // 37000 x 512 projection shared with both embeddings. Table 3 of Vaswani et al. rounds the model to
  // 65M; these weights are 63.0M (biases and layer norms add 0.1M), about 3% under it.
  const Workload tb = shipped("transformer-base");
  const std::uint64_t tb_weights = 6 * layer(512, 2048) + 6 * (layer(512, 2048) + 4 * 512 * 512) + 37000ULL * 512;
  CHECK(per_sample(tb).weight_elements == tb_weights);
  CHECK(std::abs(rel(static_cast<double>(tb_weights) * 1e-6, 65)) < 0.04);
  // Attention: encoder self, decoder self and cross, each two seq x seq GEMMs per layer.
  CHECK(per_sample(tb, 128).dense_macs == 128 * tb_weights + 3 * 6 * 2 * 128ULL * 128 * 512);

  // LLaMA 7B: 32 layers of 4 d^2 (attention) + 3 d d_ff (SwiGLU) and the untied LM head; with the
  // token embedding (32000 x 4096) and the RMS norms' scales (2 per layer and a final one) the
  // released checkpoint's 6,738,415,616 parameters exactly.
  const Workload llama = shipped("llama-7b");
  const std::uint64_t llama_weights = 32 * (4 * 4096ULL * 4096 + 3 * 4096ULL * 11008) + 32000ULL * 4096;
  CHECK(per_sample(llama).weight_elements == llama_weights);
  CHECK(llama_weights + 32000ULL * 4096 + (2 * 32 + 1) * 4096ULL == 6738415616ULL);
  // Prefill at 2048: every token meets every weight, plus 2 seq^2 d attention MACs per layer.
  CHECK(per_sample(llama, 2048).dense_macs == 2048 * llama_weights + 32 * 2 * 2048ULL * 2048 * 4096);
  // A decoding step after P cached positions: one token per weight, attention over P + 1 positions.
  const Workload decode = load_workload(workload_dir() + "/llama-7b.yaml", {"params.past=2047"});
  CHECK(per_sample(decode, 1).dense_macs == llama_weights + 32 * 2 * 2048ULL * 4096);
}
