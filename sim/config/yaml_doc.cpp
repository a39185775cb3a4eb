#include "config/yaml_doc.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "common/error.h"
#include "common/file_io.h"
#include "common/strings.h"

namespace stcsim {

namespace {

std::string type_name(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return "a scalar";
    case YAML::NodeType::Null: return "empty";
    default: return "undefined";
  }
}

// Rejects duplicate keys, which yaml-cpp would otherwise accept silently.
void check_duplicates(const YAML::Node& n, const std::string& file, const std::string& key_path) {
  if (n.IsMap()) {
    std::set<std::string> seen;
    for (const auto& kv : n) {
      const std::string key = kv.first.Scalar();
      const std::string sub = key_path.empty() ? key : fmt::format("{}.{}", key_path, key);
      if (!seen.insert(key).second) {
        throw ConfigError(fmt::format("{}:{}", file, kv.first.Mark().line + 1), sub, "key given twice");
      }
      check_duplicates(kv.second, file, sub);
    }
  } else if (n.IsSequence()) {
    for (std::size_t i = 0; i < n.size(); ++i) check_duplicates(n[i], file, fmt::format("{}[{}]", key_path, i));
  }
}

}  // namespace

YAML::Node YamlDoc::load_resolved(const std::string& path, std::vector<std::string>& stack, YamlDoc& doc) {
  if (std::find(stack.begin(), stack.end(), path) != stack.end()) {
    throw ConfigError(path, "include", "includes itself (through " + join(stack, " -> ") + ")");
  }
  if (stack.size() > 16) throw ConfigError(path, "include", "includes nested more than 16 deep");
  const std::string text = read_file(path);
  YAML::Node node;
  try {
    node = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(fmt::format("{}:{}:{}", path, e.mark.line + 1, e.mark.column + 1), "(document)",
                      "YAML syntax error: " + e.msg);
  }
  if (node.IsNull()) node = YAML::Node(YAML::NodeType::Map);
  if (!node.IsMap()) throw ConfigError(path, "(document)", "the top level must be a mapping, not " + type_name(node));
  check_duplicates(node, path, "");

  YAML::Node merged(YAML::NodeType::Map);
  if (node["include"]) {
    const YAML::Node inc = node["include"];
    std::vector<std::string> files;
    if (inc.IsScalar()) {
      files.push_back(inc.Scalar());
    } else if (inc.IsSequence()) {
      for (const auto& f : inc) {
        if (!f.IsScalar()) throw ConfigError(fmt::format("{}:{}", path, f.Mark().line + 1), "include", "entries must be file names");
        files.push_back(f.Scalar());
      }
    } else {
      throw ConfigError(fmt::format("{}:{}", path, inc.Mark().line + 1), "include", "must be a file name or a list of them");
    }
    stack.push_back(path);
    const auto dir = std::filesystem::path(path).parent_path();
    for (const auto& f : files) {
      const std::string inc_path = (dir / f).lexically_normal().string();
      if (!std::filesystem::exists(inc_path)) {
        throw ConfigError(fmt::format("{}:{}", path, inc.Mark().line + 1), "include", fmt::format("'{}' not found", inc_path));
      }
      const YAML::Node sub = load_resolved(inc_path, stack, doc);
      doc.merge(merged, sub, "", inc_path, false);
    }
    stack.pop_back();
    node.remove("include");
  }
  doc.merge(merged, node, "", path, true);
  return merged;
}

void YamlDoc::note_origin(const YAML::Node& n, const std::string& key_path, const std::string& file) {
  origin_[key_path] = Origin{file, n.Mark().is_null() ? 0 : n.Mark().line + 1};
  if (n.IsMap()) {
    for (const auto& kv : n) {
      const std::string sub = key_path.empty() ? kv.first.Scalar() : key_path + "." + kv.first.Scalar();
      note_origin(kv.second, sub, file);
      // A key's own line is that of its name, which is where a reader looks for it.
      if (!kv.first.Mark().is_null()) origin_[sub].line = kv.first.Mark().line + 1;
    }
  } else if (n.IsSequence()) {
    for (std::size_t i = 0; i < n.size(); ++i) note_origin(n[i], fmt::format("{}[{}]", key_path, i), file);
  }
}

void YamlDoc::merge(YAML::Node& into, const YAML::Node& from, const std::string& key_path, const std::string& file,
                    bool record) {
  for (const auto& kv : from) {
    const std::string key = kv.first.Scalar();
    const std::string sub = key_path.empty() ? key : fmt::format("{}.{}", key_path, key);
    if (kv.second.IsMap() && into[key] && into[key].IsMap()) {
      YAML::Node child = into[key];
      merge(child, kv.second, sub, file, record);
    } else {
      into[key] = YAML::Clone(kv.second);
      if (record) {
        note_origin(kv.second, sub, file);
        // A key's own line is that of its name, which is where a reader looks for it.
        origin_[sub].line = kv.first.Mark().line + 1;
      }
    }
  }
}

YamlDoc YamlDoc::load(const std::string& path) {
  YamlDoc doc;
  doc.path_ = path;
  std::vector<std::string> stack;
  doc.root_ = load_resolved(path, stack, doc);
  return doc;
}

YamlDoc YamlDoc::parse(const std::string& text, const std::string& name) {
  YamlDoc doc;
  doc.path_ = name;
  YAML::Node node;
  try {
    node = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(fmt::format("{}:{}:{}", name, e.mark.line + 1, e.mark.column + 1), "(document)", "YAML syntax error: " + e.msg);
  }
  if (node.IsNull()) node = YAML::Node(YAML::NodeType::Map);
  if (!node.IsMap()) throw ConfigError(name, "(document)", "the top level must be a mapping, not " + type_name(node));
  check_duplicates(node, name, "");
  doc.root_ = YAML::Node(YAML::NodeType::Map);
  doc.merge(doc.root_, node, "", name, true);
  return doc;
}

void YamlDoc::apply_set(const std::string& assignment) {
  const std::string origin = "--set " + assignment;
  const auto eq = assignment.find('=');
  if (eq == std::string::npos) throw ConfigError(origin, "--set", "expected key.path=value");
  const std::string key_path(trim(std::string_view(assignment).substr(0, eq)));
  const std::string value_text(trim(std::string_view(assignment).substr(eq + 1)));
  if (key_path.empty()) throw ConfigError(origin, "--set", "empty key path");
  const auto parts = split(key_path, '.');
  for (auto p : parts) {
    if (trim(p).empty()) throw ConfigError(origin, key_path, "empty component in the key path");
  }
  YAML::Node value;
  try {
    value = YAML::Load(value_text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(origin, key_path, "value is not valid YAML: " + e.msg);
  }
  // Walk with fresh handles: assigning to a yaml-cpp handle rebinds it rather than moving it.
  std::vector<YAML::Node> chain{root_};
  std::string walked;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    const std::string key(trim(parts[i]));
    walked = walked.empty() ? key : fmt::format("{}.{}", walked, key);
    YAML::Node next = chain.back()[key];
    if (!next) {
      chain.back()[key] = YAML::Node(YAML::NodeType::Map);
      next = chain.back()[key];
    } else if (!next.IsMap()) {
      throw ConfigError(origin, walked, "is " + type_name(next) + ", not a mapping: cannot set a key inside it");
    }
    chain.push_back(next);
  }
  chain.back()[std::string(trim(parts.back()))] = value;
  note_origin(value, key_path, origin);
}

std::string YamlDoc::where(const std::string& key_path) const {
  std::string p = key_path;
  for (;;) {
    const auto it = origin_.find(p);
    if (it != origin_.end()) {
      const Origin& o = it->second;
      if (o.line == 0 || o.file.rfind("--set ", 0) == 0) return o.file;
      return fmt::format("{}:{}", o.file, o.line);
    }
    const auto cut = p.find_last_of(".[");
    if (cut == std::string::npos) return path_;
    p = p.substr(0, cut);
  }
}

Section::Section(const YamlDoc& doc, const YAML::Node& node, std::string key_path)
    : doc_(&doc), node_(node), path_(std::move(key_path)) {
  if (!node_.IsMap()) throw ConfigError(doc.where(path_), path_.empty() ? "(document)" : path_, "must be a mapping, not " + type_name(node_));
}

bool Section::has(const std::string& key) const {
  asked_.insert(key);
  return static_cast<bool>(node_[key]);
}

void Section::fail(const std::string& reason) const {
  throw ConfigError(doc_->where(path_), path_.empty() ? "(document)" : path_, reason);
}

void Section::fail_key(const std::string& key, const std::string& reason) const {
  throw ConfigError(doc_->where(sub(key)), sub(key), reason);
}

YAML::Node Section::scalar(const std::string& key) {
  used_.insert(key);
  const YAML::Node n = node_[key];
  if (!n) fail_key(key, "missing (required)");
  if (!n.IsScalar()) fail_key(key, "must be a single value, not " + type_name(n));
  return n;
}

namespace {

template <class T>
void check_range(Section& s, const std::string& key, T v, const Range<T>& r) {
  if (r.min && v < *r.min) s.fail_key(key, fmt::format("must be >= {} (got {})", *r.min, v));
  if (r.max && v > *r.max) s.fail_key(key, fmt::format("must be <= {} (got {})", *r.max, v));
}

}  // namespace

std::int64_t Section::get_int(const std::string& key, Range<std::int64_t> r) {
  const YAML::Node n = scalar(key);
  const auto v = parse_int(n.Scalar());
  if (!v) fail_key(key, fmt::format("must be an integer (got '{}')", n.Scalar()));
  check_range(*this, key, *v, r);
  return *v;
}

double Section::get_double(const std::string& key, Range<double> r) {
  const YAML::Node n = scalar(key);
  const auto v = parse_double(n.Scalar());
  if (!v) fail_key(key, fmt::format("must be a number (got '{}')", n.Scalar()));
  check_range(*this, key, *v, r);
  return *v;
}

std::string Section::get_string(const std::string& key) {
  const YAML::Node n = scalar(key);
  if (n.Scalar().empty()) fail_key(key, "must not be empty");
  return n.Scalar();
}

bool Section::get_bool(const std::string& key) {
  const YAML::Node n = scalar(key);
  if (n.Scalar() == "true") return true;
  if (n.Scalar() == "false") return false;
  fail_key(key, fmt::format("must be true or false (got '{}')", n.Scalar()));
}

void Section::opt(const std::string& key, std::int64_t& value, Range<std::int64_t> r) {
  used_.insert(key);
  if (has(key)) value = get_int(key, r);
}

void Section::opt(const std::string& key, int& value, Range<std::int64_t> r) {
  used_.insert(key);
  if (!has(key)) return;
  if (!r.min) r.min = INT32_MIN;
  if (!r.max) r.max = INT32_MAX;
  value = static_cast<int>(get_int(key, r));
}

void Section::opt(const std::string& key, double& value, Range<double> r) {
  used_.insert(key);
  if (has(key)) value = get_double(key, r);
}

void Section::opt(const std::string& key, std::string& value) {
  used_.insert(key);
  if (has(key)) value = get_string(key);
}

void Section::opt(const std::string& key, bool& value) {
  used_.insert(key);
  if (has(key)) value = get_bool(key);
}

std::string Section::get_choice(const std::string& key, const std::vector<std::string>& choices) {
  std::string v = get_string(key);
  if (std::find(choices.begin(), choices.end(), v) == choices.end()) {
    fail_key(key, fmt::format("must be one of {} (got '{}')", join(choices, ", "), v));
  }
  return v;
}

void Section::opt_choice(const std::string& key, std::string& value, const std::vector<std::string>& choices) {
  used_.insert(key);
  if (has(key)) value = get_choice(key, choices);
}

Section Section::child(const std::string& key) {
  used_.insert(key);
  const YAML::Node n = node_[key];
  if (!n) fail_key(key, "missing (required)");
  return Section(*doc_, n, sub(key));
}

std::optional<Section> Section::opt_child(const std::string& key) {
  used_.insert(key);
  if (!has(key)) return std::nullopt;
  return child(key);
}

std::vector<Section> Section::children(const std::string& key) {
  used_.insert(key);
  const YAML::Node n = node_[key];
  if (!n) fail_key(key, "missing (required)");
  if (!n.IsSequence()) fail_key(key, "must be a list, not " + type_name(n));
  std::vector<Section> out;
  for (std::size_t i = 0; i < n.size(); ++i) out.emplace_back(*doc_, n[i], fmt::format("{}[{}]", sub(key), i));
  return out;
}

std::vector<std::optional<std::string>> Section::get_optional_scalars(const std::string& key) {
  used_.insert(key);
  const YAML::Node n = node_[key];
  if (!n) fail_key(key, "missing (required)");
  if (n.IsSequence() && n.size() == 0) fail_key(key, "must list at least one value (got an empty list)");
  if (!n.IsSequence()) return {get_scalars(key).front()};
  std::vector<std::optional<std::string>> out;
  for (std::size_t i = 0; i < n.size(); ++i) {
    if (n[i].IsNull()) {
      out.emplace_back(std::nullopt);
      continue;
    }
    if (!n[i].IsScalar()) fail_key(key, fmt::format("entry {} must be a single value or ~, not {}", i, type_name(n[i])));
    out.emplace_back(n[i].Scalar());
  }
  return out;
}

std::vector<std::string> Section::get_scalars(const std::string& key) {
  used_.insert(key);
  const YAML::Node n = node_[key];
  if (!n) fail_key(key, "missing (required)");
  if (n.IsScalar()) return {n.Scalar()};
  if (n.IsSequence() && n.size() == 0) fail_key(key, "must list at least one value (got an empty list)");
  if (!n.IsSequence()) fail_key(key, "must be a value or a list of values, not " + type_name(n));
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n.size(); ++i) {
    if (!n[i].IsScalar()) fail_key(key, fmt::format("entry {} must be a single value, not {}", i, type_name(n[i])));
    out.push_back(n[i].Scalar());
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> Section::get_scalar_map(const std::string& key) {
  used_.insert(key);
  const YAML::Node n = node_[key];
  if (!n) fail_key(key, "missing (required)");
  if (!n.IsMap()) fail_key(key, "must be a mapping of keys to values, not " + type_name(n));
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& kv : n) {
    if (!kv.second.IsScalar()) fail_key(key + "." + kv.first.Scalar(), "must be a single value, not " + type_name(kv.second));
    out.emplace_back(kv.first.Scalar(), kv.second.Scalar());
  }
  return out;
}

std::vector<std::string> Section::keys() const {
  std::vector<std::string> out;
  for (const auto& kv : node_) out.push_back(kv.first.Scalar());
  return out;
}

void Section::finish() {
  for (const auto& kv : node_) {
    const std::string key = kv.first.Scalar();
    if (!used_.count(key)) {
      std::set<std::string> all = used_;
      all.insert(asked_.begin(), asked_.end());
      std::vector<std::string> known(all.begin(), all.end());
      fail_key(key, fmt::format("unknown key (known here: {})", join(known, ", ")));
    }
  }
}

}  // namespace stcsim
