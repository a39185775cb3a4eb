#include <catch2/catch.hpp>

#include "common/error.h"
#include "report/energy.h"

using namespace stcsim;

TEST_CASE("energy is counts times the table, by component", "[report][energy]") {
  EnergyConfig e;
  e.name = "test";
  e.mac_pj[DType::fp16] = {2.0, 1.5};
  e.operand_select_pj = 0.25;
  e.metadata_pj_per_bit = 0.5;
  e.register_read_pj_per_32b = 1.0;
  e.register_write_pj_per_32b = 2.0;
  e.smem_read_pj_per_byte = 3.0;
  e.smem_write_pj_per_byte = 4.0;
  e.l2_pj_per_byte = 5.0;
  e.dram_pj_per_byte = 6.0;
  EnergyCounts c;
  c.dense_macs = 1000;
  c.sparse_macs = 2000;
  c.selections = 400;
  c.metadata_bits = 100;
  c.register_reads = 10;
  c.register_writes = 20;
  c.smem_read_bytes = 30;
  c.smem_write_bytes = 40;
  c.l2_bytes = 50;
  c.dram_bytes = 60;
  const EnergyBreakdown b = compute_energy(c, e, DType::fp16);
  CHECK(b.macs == Approx((1000 * 2.0 + 2000 * 1.5) * 1e-12));
  CHECK(b.selector_metadata == Approx((400 * 0.25 + 100 * 0.5) * 1e-12));
  CHECK(b.register_file == Approx((10 * 1.0 + 20 * 2.0) * 1e-12));
  CHECK(b.shared_memory == Approx((30 * 3.0 + 40 * 4.0) * 1e-12));
  CHECK(b.l2 == Approx(250e-12));
  CHECK(b.dram == Approx(360e-12));
  CHECK(b.static_energy == 0);  // static power is the arch's, charged by report/power.h
  CHECK(b.core() == Approx(b.macs + b.selector_metadata + b.register_file + b.shared_memory + b.l2));
  CHECK(b.dynamic() == Approx(b.core() + b.dram));
  CHECK(b.total() == Approx(b.macs + b.selector_metadata + b.register_file + b.shared_memory + b.l2 + b.dram + b.static_energy));
  CHECK_THROWS_AS(compute_energy(c, e, DType::fp8), Error);
  EnergyCounts twice = c;
  twice += c;
  CHECK(twice.dram_bytes == 120);
}
