#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "config/yaml_doc.h"

using namespace stcsim;

namespace {

std::string write_tmp(const std::string& name, const std::string& text) {
  const auto dir = std::filesystem::temp_directory_path() / "stcsim_yaml_doc_test";
  std::filesystem::create_directories(dir);
  const auto p = dir / name;
  std::ofstream(p) << text;
  return p.string();
}

}  // namespace

TEST_CASE("includes merge key by key, the including file winning", "[config][yaml]") {
  write_tmp("base.yaml", "a:\n  x: 1\n  y: 2\nb: 3\n");
  const auto top = write_tmp("top.yaml", "include: base.yaml\na:\n  y: 20\nc: 4\n");
  const YamlDoc doc = YamlDoc::load(top);
  CHECK(doc.root()["a"]["x"].Scalar() == "1");
  CHECK(doc.root()["a"]["y"].Scalar() == "20");
  CHECK(doc.root()["b"].Scalar() == "3");
  CHECK(doc.root()["c"].Scalar() == "4");
  CHECK_FALSE(doc.root()["include"]);
  // Errors point at the file a key came from.
  Section s(doc, doc.root(), "");
  Section a = s.child("a");
  CHECK_THROWS_WITH(a.get_int("x", {10, {}}), Catch::Contains("base.yaml:2: a.x: must be >= 10 (got 1)"));
}

TEST_CASE("include cycles and missing includes are refused", "[config][yaml]") {
  write_tmp("cyc1.yaml", "include: cyc2.yaml\n");
  const auto p = write_tmp("cyc2.yaml", "include: cyc1.yaml\n");
  CHECK_THROWS_WITH(YamlDoc::load(p), Catch::Contains("includes itself"));
  const auto q = write_tmp("missing.yaml", "include: nowhere.yaml\n");
  CHECK_THROWS_WITH(YamlDoc::load(q), Catch::Contains("nowhere.yaml' not found"));
}

TEST_CASE("set overrides replace or add a key and are named in errors", "[config][yaml]") {
  YamlDoc doc = YamlDoc::parse("arch:\n  sms: 132\n  sm:\n    tc: 4\n", "t.yaml");
  doc.apply_set("arch.sm.tc=8");
  doc.apply_set("arch.new.deep=1");
  doc.apply_set("arch.list=[1, 2]");
  CHECK(doc.root()["arch"]["sm"]["tc"].Scalar() == "8");
  CHECK(doc.root()["arch"]["new"]["deep"].Scalar() == "1");
  CHECK(doc.root()["arch"]["list"].size() == 2);
  CHECK(doc.root()["arch"]["sms"].Scalar() == "132");
  // Nested keys are located at their own line.
  YamlDoc nested = YamlDoc::parse("a:\n  b:\n    c: 1\n    d: x\n", "n.yaml");
  Section b = Section(nested, nested.root(), "").child("a").child("b");
  CHECK_THROWS_WITH(b.get_int("d"), Catch::Contains("n.yaml:4: a.b.d: must be an integer"));
  doc.apply_set("arch.sms=0");
  Section arch = Section(doc, doc.root(), "").child("arch");
  CHECK_THROWS_WITH(arch.get_int("sms", {1, {}}), Catch::Contains("--set arch.sms=0: arch.sms: must be >= 1 (got 0)"));
  CHECK_THROWS_WITH(doc.apply_set("novalue"), Catch::Contains("expected key.path=value"));
  CHECK_THROWS_WITH(doc.apply_set("arch.sms.x=1"), Catch::Contains("not a mapping"));
  CHECK_THROWS_WITH(doc.apply_set("a..b=1"), Catch::Contains("empty component"));
}

TEST_CASE("sections reject unknown, missing, mistyped and duplicate keys", "[config][yaml]") {
  YamlDoc doc = YamlDoc::parse("n: 3\nx: 1.5\nname: h\nflag: yes\nsub: {a: 1}\nextra: 2\n", "t.yaml");
  Section s(doc, doc.root(), "");
  CHECK(s.get_int("n", {1, 8}) == 3);
  CHECK(s.get_double("x") == 1.5);
  CHECK_THROWS_WITH(s.get_int("x"), Catch::Contains("t.yaml:2: x: must be an integer (got '1.5')"));
  CHECK_THROWS_WITH(s.get_int("missing"), Catch::Contains("missing: missing (required)"));
  CHECK_THROWS_WITH(s.get_bool("flag"), Catch::Contains("must be true or false"));
  CHECK_THROWS_WITH(s.get_int("sub"), Catch::Contains("must be a single value, not a mapping"));
  CHECK_THROWS_WITH(s.get_choice("name", {"a", "b"}), Catch::Contains("must be one of a, b (got 'h')"));
  int keep = 7;
  s.opt("absent", keep);
  CHECK(keep == 7);
  CHECK_THROWS_WITH(s.finish(), Catch::Contains("t.yaml:6: extra: unknown key"));
  CHECK_THROWS_WITH(YamlDoc::parse("a: 1\na: 2\n", "d.yaml"), Catch::Contains("d.yaml:2: a: key given twice"));
  CHECK_THROWS_WITH(YamlDoc::parse("a: [1, 2\n", "s.yaml"), Catch::Contains("YAML syntax error"));
  CHECK_THROWS_WITH(YamlDoc::parse("- 1\n", "l.yaml"), Catch::Contains("top level must be a mapping"));
}
