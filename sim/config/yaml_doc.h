// Strict YAML loading shared by every config: includes, --set overrides, and readers that reject
// unknown keys, missing required keys and out-of-range values, naming file, line and key path.
//
// Includes: a top-level `include:` (a file name or a list of them, relative to the including file)
// loads those files first; the including file's keys then override theirs, mappings merged key by
// key, anything else replaced whole. Overrides: `--set a.b.c=value` replaces (or adds) one key after
// all files are loaded; the value is read as YAML, so lists and mappings work too.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace stcsim {

class YamlDoc {
 public:
  // Loads and resolves includes; IoError if a file is missing, ConfigError on bad YAML or includes.
  static YamlDoc load(const std::string& path);
  // Parses YAML text held in memory (tests, sweeps); `name` is used in messages.
  static YamlDoc parse(const std::string& text, const std::string& name);

  // Applies "a.b.c=value"; ConfigError naming the assignment if it is malformed.
  void apply_set(const std::string& assignment);

  const YAML::Node& root() const { return root_; }
  const std::string& path() const { return path_; }
  // "file:line" where the key at `key_path` was written (after includes and overrides); the closest
  // recorded parent's place if that key is absent.
  std::string where(const std::string& key_path) const;

 private:
  // `record`: note where each merged key came from; false for trees already noted (resolved includes,
  // whose clones have lost their marks).
  void merge(YAML::Node& into, const YAML::Node& from, const std::string& key_path, const std::string& file, bool record);
  void note_origin(const YAML::Node& n, const std::string& key_path, const std::string& file);
  static YAML::Node load_resolved(const std::string& path, std::vector<std::string>& stack, YamlDoc& doc);

  std::string path_;
  YAML::Node root_;
  struct Origin {
    std::string file;  // or "--set ..."
    int line = 0;      // 1-based; 0 when unknown
  };
  // Key path -> where it was written. Kept here because yaml-cpp's clones lose their source marks.
  std::map<std::string, Origin> origin_;
};

// Bounds for numeric values; both inclusive.
template <class T>
struct Range {
  std::optional<T> min;
  std::optional<T> max;
};

// Reads one mapping of a YamlDoc strictly. Every key must be consumed by a get/opt/child call
// before finish(), which rejects the ones left over as unknown.
class Section {
 public:
  Section(const YamlDoc& doc, const YAML::Node& node, std::string key_path);

  bool has(const std::string& key) const;
  // Required value; ConfigError if missing, of the wrong type or out of range.
  std::int64_t get_int(const std::string& key, Range<std::int64_t> r = {});
  double get_double(const std::string& key, Range<double> r = {});
  std::string get_string(const std::string& key);
  bool get_bool(const std::string& key);
  // Optional value: `value` keeps its in-class default when the key is absent.
  void opt(const std::string& key, std::int64_t& value, Range<std::int64_t> r = {});
  void opt(const std::string& key, int& value, Range<std::int64_t> r = {});
  void opt(const std::string& key, double& value, Range<double> r = {});
  void opt(const std::string& key, std::string& value);
  void opt(const std::string& key, bool& value);
  // One of `choices`.
  std::string get_choice(const std::string& key, const std::vector<std::string>& choices);
  void opt_choice(const std::string& key, std::string& value, const std::vector<std::string>& choices);

  // A nested mapping (required, or optional: nullopt when absent).
  Section child(const std::string& key);
  std::optional<Section> opt_child(const std::string& key);
  // A sequence of mappings.
  std::vector<Section> children(const std::string& key);
  // A list of single values (one value alone counts as a list of one), each as written; ConfigError
  // naming the entry that is not a single value.
  std::vector<std::string> get_scalars(const std::string& key);
  // The same, where an entry may be null (~): nullopt for it.
  std::vector<std::optional<std::string>> get_optional_scalars(const std::string& key);
  // A mapping of single values, in document order, each value as written.
  std::vector<std::pair<std::string, std::string>> get_scalar_map(const std::string& key);
  // Keys of this mapping in document order (for maps keyed by name, such as per-dtype tables).
  std::vector<std::string> keys() const;

  // ConfigError for the first key no call consumed.
  void finish();

  // ConfigError at this section (or at one of its keys).
  [[noreturn]] void fail(const std::string& reason) const;
  [[noreturn]] void fail_key(const std::string& key, const std::string& reason) const;

  const std::string& key_path() const { return path_; }
  const YamlDoc& doc() const { return *doc_; }

 private:
  YAML::Node scalar(const std::string& key);
  std::string sub(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  const YamlDoc* doc_;
  YAML::Node node_;
  std::string path_;
  std::set<std::string> used_;
  mutable std::set<std::string> asked_;  // keys has() was asked about: valid here, listed in "known here"
};

}  // namespace stcsim
