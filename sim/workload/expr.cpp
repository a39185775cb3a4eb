// Recursive-descent parser and evaluator for workload shape expressions (expr.h).
#include "workload/expr.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "common/strings.h"

namespace stcsim {

struct Expr::Node {
  enum class Kind { number, variable, add, sub, mul, div, neg, call };
  Kind kind = Kind::number;
  std::int64_t value = 0;
  std::string name;  // variable or function
  std::vector<std::shared_ptr<const Node>> args;
};

namespace {

using NodePtr = std::shared_ptr<const Expr::Node>;
using Kind = Expr::Node::Kind;

struct Function {
  const char* name;
  std::size_t arity;
  const char* signature;
};

constexpr Function kFunctions[] = {
    {"ceil_div", 2, "ceil_div(a, b)"},
    {"floor_div", 2, "floor_div(a, b)"},
    {"conv_out", 4, "conv_out(size, kernel, stride, pad)"},
};

const Function* find_function(const std::string& name) {
  for (const auto& f : kFunctions) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

std::string function_list() {
  std::vector<std::string> names;
  for (const auto& f : kFunctions) names.emplace_back(f.signature);
  return join(names, ", ");
}

class Parser {
 public:
  explicit Parser(const std::string& text) : text_(text) {}

  NodePtr parse() {
    skip_space();
    if (pos_ == text_.size()) fail_here("empty expression");
    NodePtr n = sum();
    skip_space();
    if (pos_ != text_.size()) fail_here(fmt::format("unexpected '{}'", text_[pos_]));
    return n;
  }

 private:
  [[noreturn]] void fail_here(const std::string& reason) const {
    throw ExprError(fmt::format("expression '{}': {} at column {}", text_, reason, pos_ + 1));
  }

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  }

  bool accept(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  static NodePtr binary(Kind k, NodePtr a, NodePtr b) {
    auto n = std::make_shared<Expr::Node>();
    n->kind = k;
    n->args = {std::move(a), std::move(b)};
    return n;
  }

  NodePtr sum() {
    NodePtr n = product();
    for (;;) {
      if (accept('+')) {
        n = binary(Kind::add, n, product());
      } else if (accept('-')) {
        n = binary(Kind::sub, n, product());
      } else {
        return n;
      }
    }
  }

  NodePtr product() {
    NodePtr n = unary();
    for (;;) {
      if (accept('*')) {
        n = binary(Kind::mul, n, unary());
      } else if (accept('/')) {
        n = binary(Kind::div, n, unary());
      } else {
        return n;
      }
    }
  }

  NodePtr unary() {
    if (accept('-')) {
      auto n = std::make_shared<Expr::Node>();
      n->kind = Kind::neg;
      n->args = {unary()};
      return n;
    }
    if (accept('+')) return unary();
    return primary();
  }

  NodePtr primary() {
    skip_space();
    if (pos_ == text_.size()) fail_here("expected a number, a name or '(' but the expression ends");
    const char c = text_[pos_];
    if (c == '(') {
      ++pos_;
      NodePtr n = sum();
      if (!accept(')')) fail_here("expected ')'");
      return n;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      const std::size_t start = pos_;
      while (pos_ < text_.size() && std::isalnum(static_cast<unsigned char>(text_[pos_]))) ++pos_;
      const std::string digits = text_.substr(start, pos_ - start);
      const auto v = parse_int(digits);
      if (!v) {
        pos_ = start;
        fail_here(fmt::format("'{}' is not a decimal integer that fits 64 bits", digits));
      }
      auto n = std::make_shared<Expr::Node>();
      n->value = *v;
      return n;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      const std::size_t start = pos_;
      while (pos_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_'))
        ++pos_;
      auto n = std::make_shared<Expr::Node>();
      n->name = text_.substr(start, pos_ - start);
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == '(') {
        const Function* f = find_function(n->name);
        if (!f) {
          pos_ = start;
          fail_here(fmt::format("unknown function '{}' (known: {})", n->name, function_list()));
        }
        ++pos_;
        n->kind = Kind::call;
        if (!accept(')')) {
          do {
            n->args.push_back(sum());
          } while (accept(','));
          if (!accept(')')) fail_here("expected ',' or ')'");
        }
        if (n->args.size() != f->arity) {
          pos_ = start;
          fail_here(fmt::format("{} takes {} arguments, not {}", f->signature, f->arity, n->args.size()));
        }
        return n;
      }
      if (find_function(n->name)) {
        pos_ = start;
        fail_here(fmt::format("'{}' is a function: write {}", n->name, find_function(n->name)->signature));
      }
      n->kind = Kind::variable;
      return n;
    }
    fail_here(fmt::format("unexpected '{}'", c));
  }

  const std::string& text_;
  std::size_t pos_ = 0;
};

class Evaluator {
 public:
  Evaluator(const std::string& text, const ExprVars& vars) : text_(text), vars_(vars) {}

  std::int64_t eval(const Expr::Node& n) const {
    switch (n.kind) {
      case Kind::number:
        return n.value;
      case Kind::variable: {
        const auto it = vars_.find(n.name);
        if (it == vars_.end()) {
          std::vector<std::string> known;
          for (const auto& kv : vars_) known.push_back(kv.first);
          fail(fmt::format("unknown variable '{}' (known: {})", n.name, known.empty() ? "none" : join(known, ", ")));
        }
        return it->second;
      }
      case Kind::neg: {
        const std::int64_t a = eval(*n.args[0]);
        std::int64_t r = 0;
        if (__builtin_sub_overflow(std::int64_t{0}, a, &r)) overflow(fmt::format("-({})", a));
        return r;
      }
      case Kind::add:
      case Kind::sub:
      case Kind::mul: {
        const std::int64_t a = eval(*n.args[0]);
        const std::int64_t b = eval(*n.args[1]);
        std::int64_t r = 0;
        bool over = false;
        char op = '+';
        if (n.kind == Kind::add) {
          over = __builtin_add_overflow(a, b, &r);
        } else if (n.kind == Kind::sub) {
          over = __builtin_sub_overflow(a, b, &r);
          op = '-';
        } else {
          over = __builtin_mul_overflow(a, b, &r);
          op = '*';
        }
        if (over) overflow(fmt::format("{} {} {}", a, op, b));
        return r;
      }
      case Kind::div: {
        const std::int64_t a = eval(*n.args[0]);
        const std::int64_t b = eval(*n.args[1]);
        check_divisor(a, b, "/");
        if (a % b != 0) {
          fail(fmt::format("{} / {} does not divide exactly (write ceil_div or floor_div to round)", a, b));
        }
        return a / b;
      }
      case Kind::call:
        return call(n);
    }
    return 0;
  }

 private:
  [[noreturn]] void fail(const std::string& reason) const {
    throw ExprError(fmt::format("expression '{}': {}", text_, reason));
  }
  [[noreturn]] void overflow(const std::string& what) const { fail(what + " overflows 64 bits"); }

  void check_divisor(std::int64_t a, std::int64_t b, const char* op) const {
    if (b == 0) fail(fmt::format("division by zero in {} {} 0", a, op));
    if (a == INT64_MIN && b == -1) overflow(fmt::format("{} {} -1", a, op));
  }

  std::int64_t call(const Expr::Node& n) const {
    std::vector<std::int64_t> a;
    for (const auto& arg : n.args) a.push_back(eval(*arg));
    if (n.name == "ceil_div" || n.name == "floor_div") {
      check_divisor(a[0], a[1], n.name == "ceil_div" ? "ceil_div" : "floor_div");
      std::int64_t q = a[0] / a[1];
      const bool inexact = a[0] % a[1] != 0;
      const bool negative = (a[0] < 0) != (a[1] < 0);
      if (inexact && n.name == "floor_div" && negative) --q;
      if (inexact && n.name == "ceil_div" && !negative) ++q;
      return q;
    }
    // conv_out
    try {
      return conv_out_size(a[0], a[1], a[2], a[3]);
    } catch (const ExprError& e) {
      fail(e.what());
    }
  }

  const std::string& text_;
  const ExprVars& vars_;
};

void collect_variables(const Expr::Node& n, std::set<std::string>& out) {
  if (n.kind == Kind::variable) out.insert(n.name);
  for (const auto& a : n.args) collect_variables(*a, out);
}

}  // namespace

Expr Expr::parse(const std::string& text) {
  Expr e;
  e.text_ = std::string(trim(text));
  e.root_ = Parser(e.text_).parse();
  return e;
}

std::int64_t Expr::eval(const ExprVars& vars) const {
  if (!root_) throw ExprError("expression: evaluated before it was parsed");
  return Evaluator(text_, vars).eval(*root_);
}

std::vector<std::string> Expr::variables() const {
  std::set<std::string> names;
  if (root_) collect_variables(*root_, names);
  return {names.begin(), names.end()};
}

std::int64_t conv_out_size(std::int64_t size, std::int64_t kernel, std::int64_t stride, std::int64_t pad) {
  const std::string call = fmt::format("conv_out({}, {}, {}, {})", size, kernel, stride, pad);
  if (size < 1) throw ExprError(fmt::format("{}: size must be >= 1", call));
  if (kernel < 1) throw ExprError(fmt::format("{}: kernel must be >= 1", call));
  if (stride < 1) throw ExprError(fmt::format("{}: stride must be >= 1", call));
  if (pad < 0) throw ExprError(fmt::format("{}: pad must be >= 0", call));
  // Bounded so that size + 2*pad cannot overflow; shapes this large are refused later anyway.
  constexpr std::int64_t kLimit = std::int64_t{1} << 40;
  if (size > kLimit || pad > kLimit || kernel > kLimit) throw ExprError(fmt::format("{}: sizes above 2^40", call));
  const std::int64_t padded = size + 2 * pad;
  if (kernel > padded) {
    throw ExprError(fmt::format("{}: the kernel is larger than the padded input ({})", call, padded));
  }
  return (padded - kernel) / stride + 1;
}

bool is_identifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

bool is_function_name(const std::string& s) { return find_function(s) != nullptr; }

}  // namespace stcsim
