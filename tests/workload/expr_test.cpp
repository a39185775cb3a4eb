// The shape-expression evaluator: precedence, functions, and every way an expression can fail.
#include <catch2/catch.hpp>

#include "workload/expr.h"

using namespace stcsim;

namespace {

std::int64_t ev(const std::string& text, const ExprVars& vars = {}) { return Expr::parse(text).eval(vars); }

}  // namespace

TEST_CASE("expressions follow the usual precedence and associativity", "[workload][expr]") {
  CHECK(ev("2 + 3 * 4") == 14);
  CHECK(ev("(2 + 3) * 4") == 20);
  CHECK(ev("10 - 4 - 3") == 3);
  CHECK(ev("64 / 4 / 2") == 8);
  CHECK(ev("2 * 3 / 6") == 1);
  CHECK(ev("-3 + 5") == 2);
  CHECK(ev("- -3") == 3);
  CHECK(ev("+7") == 7);
  CHECK(ev("2*-3") == -6);
  CHECK(ev("((((1))))") == 1);
  CHECK(ev("768") == 768);
  CHECK(ev("  12\t") == 12);
}

TEST_CASE("expressions read variables and call the three functions", "[workload][expr]") {
  const ExprVars vars{{"batch", 32}, {"seq", 128}, {"hidden", 768}, {"heads", 12}, {"n_layers", 12}};
  CHECK(ev("batch*seq", vars) == 4096);
  CHECK(ev("3*hidden", vars) == 2304);
  CHECK(ev("hidden / heads", vars) == 64);
  CHECK(ev("batch*heads*n_layers", vars) == 4608);
  CHECK(ev("ceil_div(7, 2)") == 4);
  CHECK(ev("ceil_div(8, 2)") == 4);
  CHECK(ev("floor_div(7, 2)") == 3);
  CHECK(ev("floor_div(-7, 2)") == -4);
  CHECK(ev("ceil_div(-7, 2)") == -3);
  CHECK(ev("conv_out(224, 7, 2, 3)") == 112);
  CHECK(ev("conv_out(conv_out(224, 7, 2, 3), 3, 2, 1)") == 56);
  CHECK(ev("ceil_div(seq, 64) * 64", vars) == 128);
  CHECK(Expr::parse("batch * seq + hidden / heads - batch").variables() ==
        std::vector<std::string>{"batch", "heads", "hidden", "seq"});
  CHECK(Expr::parse("  a+b ").text() == "a+b");
}

TEST_CASE("an unknown variable is named with the expression and the known names", "[workload][expr]") {
  const ExprVars vars{{"batch", 1}, {"hidden", 768}};
  CHECK_THROWS_AS(ev("hidden / heads", vars), ExprError);
  CHECK_THROWS_WITH(ev("hidden / heads", vars),
                    "expression 'hidden / heads': unknown variable 'heads' (known: batch, hidden)");
  CHECK_THROWS_WITH(ev("x"), "expression 'x': unknown variable 'x' (known: none)");
}

TEST_CASE("division must be exact, and by something other than zero", "[workload][expr]") {
  const ExprVars vars{{"hidden", 768}};
  CHECK_THROWS_WITH(ev("hidden / 5", vars),
                    "expression 'hidden / 5': 768 / 5 does not divide exactly (write ceil_div or floor_div to round)");
  CHECK_THROWS_WITH(ev("7 / 0"), Catch::Contains("division by zero"));
  CHECK_THROWS_WITH(ev("ceil_div(7, 0)"), Catch::Contains("division by zero"));
  CHECK_THROWS_WITH(ev("floor_div(1, 2 - 2)"), Catch::Contains("division by zero"));
}

TEST_CASE("overflow is an error, never a wrap", "[workload][expr]") {
  CHECK_THROWS_WITH(ev("9223372036854775807 + 1"), Catch::Contains("9223372036854775807 + 1 overflows 64 bits"));
  CHECK_THROWS_WITH(ev("3037000500 * 3037000500"), Catch::Contains("overflows 64 bits"));
  CHECK_THROWS_WITH(ev("-9223372036854775807 - 2"), Catch::Contains("overflows 64 bits"));
  CHECK_THROWS_WITH(ev("(-9223372036854775807 - 1) / -1"), Catch::Contains("overflows 64 bits"));
  CHECK_THROWS_WITH(ev("-(-9223372036854775807 - 1)"), Catch::Contains("overflows 64 bits"));
  CHECK_THROWS_WITH(ev("99999999999999999999"), Catch::Contains("not a decimal integer that fits 64 bits"));
  CHECK(ev("9223372036854775806 + 1") == INT64_MAX);
}

TEST_CASE("syntax errors name the expression and the column", "[workload][expr]") {
  CHECK_THROWS_WITH(Expr::parse("3*(4"), "expression '3*(4': expected ')' at column 5");
  CHECK_THROWS_WITH(Expr::parse("3 +"), Catch::Contains("the expression ends at column 4"));
  CHECK_THROWS_WITH(Expr::parse("3 $ 4"), "expression '3 $ 4': unexpected '$' at column 3");
  CHECK_THROWS_WITH(Expr::parse("3 4"), Catch::Contains("unexpected '4'"));
  CHECK_THROWS_WITH(Expr::parse(""), Catch::Contains("empty expression"));
  CHECK_THROWS_WITH(Expr::parse("2**3"), Catch::Contains("unexpected '*'"));
  CHECK_THROWS_WITH(Expr::parse("12abc"), Catch::Contains("'12abc' is not a decimal integer"));
  CHECK_THROWS_WITH(Expr::parse("1.5"), Catch::Contains("unexpected '.'"));
  CHECK_THROWS_WITH(Expr::parse("sqrt(4)"), Catch::Contains("unknown function 'sqrt' (known: ceil_div(a, b)"));
  CHECK_THROWS_WITH(Expr::parse("ceil_div(1)"), Catch::Contains("ceil_div(a, b) takes 2 arguments, not 1"));
  CHECK_THROWS_WITH(Expr::parse("conv_out(1, 2)"), Catch::Contains("takes 4 arguments, not 2"));
  CHECK_THROWS_WITH(Expr::parse("ceil_div + 1"), Catch::Contains("'ceil_div' is a function"));
  CHECK_THROWS_WITH(Expr::parse("ceil_div(1, 2"), Catch::Contains("expected ',' or ')'"));
}

TEST_CASE("convolution output sizes follow PyTorch's floor formula", "[workload][expr][conv]") {
  // ResNet-50 at 224: conv1 7x7/2 pad 3, max pool 3x3/2 pad 1, stride-2 3x3 and 1x1 convs.
  CHECK(conv_out_size(224, 7, 2, 3) == 112);
  CHECK(conv_out_size(112, 3, 2, 1) == 56);
  CHECK(conv_out_size(56, 3, 2, 1) == 28);
  CHECK(conv_out_size(56, 1, 2, 0) == 28);
  CHECK(conv_out_size(7, 1, 2, 0) == 4);
  // AlexNet at 224: conv1 11x11/4 pad 2, then three 3x3/2 max pools.
  CHECK(conv_out_size(224, 11, 4, 2) == 55);
  CHECK(conv_out_size(55, 3, 2, 0) == 27);
  CHECK(conv_out_size(27, 3, 2, 0) == 13);
  CHECK(conv_out_size(13, 3, 2, 0) == 6);
  // Same-padding 3x3 keeps the size; a 2x2/2 pool halves it.
  CHECK(conv_out_size(14, 3, 1, 1) == 14);
  CHECK(conv_out_size(224, 2, 2, 0) == 112);
  CHECK(conv_out_size(1, 1, 1, 0) == 1);
  CHECK(conv_out_size(2, 5, 1, 2) == 2);
  CHECK_THROWS_WITH(conv_out_size(4, 7, 1, 1), "conv_out(4, 7, 1, 1): the kernel is larger than the padded input (6)");
  CHECK_THROWS_WITH(conv_out_size(4, 3, 0, 1), Catch::Contains("stride must be >= 1"));
  CHECK_THROWS_WITH(conv_out_size(4, 3, 1, -1), Catch::Contains("pad must be >= 0"));
  CHECK_THROWS_WITH(conv_out_size(0, 1, 1, 0), Catch::Contains("size must be >= 1"));
  CHECK_THROWS_WITH(conv_out_size(4, 0, 1, 0), Catch::Contains("kernel must be >= 1"));
  CHECK_THROWS_WITH(conv_out_size(INT64_MAX, 1, 1, 0), Catch::Contains("sizes above 2^40"));
  CHECK_THROWS_WITH(Expr::parse("conv_out(4, 7, 1, 1)").eval({}), Catch::Contains("expression 'conv_out(4, 7, 1, 1)'"));
}
