// Integer expressions for workload shapes (workloads/README.md): `batch*seq`, `3*hidden`,
// `hidden/heads`, `conv_out(image, 7, 2, 3)`.
//
// Grammar: + - * / with the usual precedence and left associativity, unary minus, parentheses,
// decimal integer literals, variables ([A-Za-z_][A-Za-z0-9_]*) and three functions:
//   ceil_div(a, b)   floor_div(a, b)   conv_out(size, kernel, stride, pad)
// `/` must divide exactly: a shape that silently rounds is almost always a typo (hidden/heads with
// the wrong head count), so rounding has to be asked for with ceil_div or floor_div. Arithmetic is
// 64-bit and overflow is an error, never a wrap. Deliberately left out: floats, comparisons, %.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/error.h"

namespace stcsim {

// A malformed expression, or one that cannot be evaluated; what() names the expression.
class ExprError : public Error {
 public:
  using Error::Error;
};

using ExprVars = std::map<std::string, std::int64_t>;

class Expr {
 public:
  // ExprError on a syntax error (with the column), an unknown function or a wrong argument count.
  static Expr parse(const std::string& text);

  // ExprError on an unknown variable (listing the known ones), inexact or zero division, overflow.
  std::int64_t eval(const ExprVars& vars) const;

  const std::string& text() const { return text_; }
  // Every variable the expression names, sorted, each once.
  std::vector<std::string> variables() const;

  struct Node;

 private:
  std::string text_;
  std::shared_ptr<const Node> root_;
};

// Output size of a convolution or pooling window along one axis, as PyTorch computes it
// (floor((size + 2*pad - kernel) / stride) + 1); ExprError if a parameter is out of range or the
// window does not fit the padded input.
std::int64_t conv_out_size(std::int64_t size, std::int64_t kernel, std::int64_t stride, std::int64_t pad);

// True for names an expression may use as a variable (and a workload as a parameter).
bool is_identifier(const std::string& s);
// Names reserved for the functions above.
bool is_function_name(const std::string& s);

}  // namespace stcsim
