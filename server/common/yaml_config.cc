#include "server/common/yaml_config.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace remediator {
namespace {

std::string KindName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return absl::StrCat("\"", node.Scalar(), "\"");
    case YAML::NodeType::Null:
      return "nothing";
    default:
      return "an undefined value";
  }
}

// Finds `key` in `map` without yaml-cpp's operator[] (which inserts on non-const nodes and
// throws on non-maps).
YAML::Node Find(const YAML::Node& map, std::string_view key) {
  if (!map.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  for (const auto& entry : map) {
    if (entry.first.IsScalar() && entry.first.Scalar() == key) return entry.second;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

}  // namespace

absl::StatusOr<YamlDocument> ParseYaml(const std::string& text, const std::string& name) {
  try {
    YamlDocument doc{name, YAML::Load(text)};
    if (!doc.root.IsDefined() || doc.root.IsNull()) doc.root = YAML::Node(YAML::NodeType::Map);
    return doc;
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(name, ":", e.mark.line + 1, ":",
                                                   e.mark.column + 1, ": invalid YAML: ", e.msg));
  }
}

absl::StatusOr<YamlDocument> LoadYamlFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open config file ", path));
  std::stringstream text;
  text << in.rdbuf();
  return ParseYaml(text.str(), path);
}

absl::Status YamlError(const YamlDocument& doc, const YAML::Node& node, std::string_view key,
                       std::string_view what) {
  int line = node.IsDefined() ? node.Mark().line + 1 : 0;
  return absl::InvalidArgumentError(absl::StrCat(doc.name, ":", line > 0 ? line : 1, ": key \"",
                                                 std::string(key), "\": ", std::string(what)));
}

absl::Status ReadString(const YamlDocument& doc, const YAML::Node& map, std::string_view key,
                        std::string* out) {
  YAML::Node v = Find(map, key);
  if (!v.IsDefined() || v.IsNull()) return absl::OkStatus();
  if (!v.IsScalar()) return YamlError(doc, v, key, "wants a string, got " + KindName(v));
  *out = v.Scalar();
  return absl::OkStatus();
}

absl::Status ReadInt(const YamlDocument& doc, const YAML::Node& map, std::string_view key,
                     int* out) {
  YAML::Node v = Find(map, key);
  if (!v.IsDefined() || v.IsNull()) return absl::OkStatus();
  try {
    if (!v.IsScalar()) throw YAML::Exception(YAML::Mark(), "");
    *out = v.as<int>();
  } catch (const YAML::Exception&) {
    return YamlError(doc, v, key, "wants a whole number, got " + KindName(v));
  }
  return absl::OkStatus();
}

absl::Status ReadDouble(const YamlDocument& doc, const YAML::Node& map, std::string_view key,
                        double* out) {
  YAML::Node v = Find(map, key);
  if (!v.IsDefined() || v.IsNull()) return absl::OkStatus();
  try {
    if (!v.IsScalar()) throw YAML::Exception(YAML::Mark(), "");
    *out = v.as<double>();
  } catch (const YAML::Exception&) {
    return YamlError(doc, v, key, "wants a number, got " + KindName(v));
  }
  return absl::OkStatus();
}

absl::Status ReadBool(const YamlDocument& doc, const YAML::Node& map, std::string_view key,
                      bool* out) {
  YAML::Node v = Find(map, key);
  if (!v.IsDefined() || v.IsNull()) return absl::OkStatus();
  try {
    if (!v.IsScalar()) throw YAML::Exception(YAML::Mark(), "");
    *out = v.as<bool>();
  } catch (const YAML::Exception&) {
    return YamlError(doc, v, key, "wants true or false, got " + KindName(v));
  }
  return absl::OkStatus();
}

absl::Status ReadDuration(const YamlDocument& doc, const YAML::Node& map, std::string_view key,
                          absl::Duration* out) {
  YAML::Node v = Find(map, key);
  if (!v.IsDefined() || v.IsNull()) return absl::OkStatus();
  absl::Duration d;
  if (!v.IsScalar() || !absl::ParseDuration(v.Scalar(), &d) || d < absl::ZeroDuration()) {
    return YamlError(doc, v, key, "wants a duration like 30s, 1m30s or 250ms, got " + KindName(v));
  }
  *out = d;
  return absl::OkStatus();
}

absl::Status ReadStringList(const YamlDocument& doc, const YAML::Node& map, std::string_view key,
                            std::vector<std::string>* out) {
  YAML::Node v = Find(map, key);
  if (!v.IsDefined() || v.IsNull()) return absl::OkStatus();
  if (!v.IsSequence()) return YamlError(doc, v, key, "wants a list of strings, got " + KindName(v));
  std::vector<std::string> values;
  for (const auto& item : v) {
    if (!item.IsScalar()) {
      return YamlError(doc, item, key, "wants a list of strings, has " + KindName(item));
    }
    values.push_back(item.Scalar());
  }
  *out = std::move(values);
  return absl::OkStatus();
}

absl::Status CheckKnownKeys(const YamlDocument& doc, const YAML::Node& map,
                            const std::set<std::string>& allowed, std::string_view where) {
  if (!map.IsDefined() || map.IsNull()) return absl::OkStatus();
  if (!map.IsMap()) {
    return YamlError(doc, map, where, "wants a mapping of keys, got " + KindName(map));
  }
  for (const auto& entry : map) {
    const std::string key = entry.first.Scalar();
    if (allowed.count(key) == 0) {
      std::string known;
      for (const auto& k : allowed) known += (known.empty() ? "" : ", ") + k;
      return YamlError(
          doc, entry.first, key,
          absl::StrCat("unknown key in ", std::string(where), " (known: ", known, ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace remediator
