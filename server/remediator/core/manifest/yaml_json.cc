#include "server/remediator/core/manifest/yaml_json.h"

#include <charconv>

#include "absl/strings/ascii.h"

namespace remediator::manifest {
namespace {

using nlohmann::json;

bool IsPlainSafe(const std::string& s) {
  if (s.empty() || s.size() > 200) return false;
  const unsigned char first = static_cast<unsigned char>(s[0]);
  if (!absl::ascii_isalnum(first) && s[0] != '/' && s[0] != '.' && s[0] != '_') return false;
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (!absl::ascii_isalnum(u) && std::string_view("_./:@+-=").find(c) == std::string::npos) {
      return false;
    }
  }
  if (s.find(": ") != std::string::npos || s.back() == ':') return false;
  // A plain scalar must read back as the same string, not as a number, bool or null.
  const json back = PlainScalarValue(s);
  return back.is_string() && back.get<std::string>() == s;
}

std::string Indent(int n) { return std::string(static_cast<size_t>(n), ' '); }

}  // namespace

json PlainScalarValue(const std::string& text) {
  const std::string t(absl::StripAsciiWhitespace(text));
  if (t.empty() || t == "~" || t == "null" || t == "Null" || t == "NULL") return nullptr;
  static const char* const kTrue[] = {"true", "True", "TRUE", "yes", "Yes",
                                      "YES",  "on",   "On",   "ON"};
  static const char* const kFalse[] = {"false", "False", "FALSE", "no", "No",
                                       "NO",    "off",   "Off",   "OFF"};
  for (const char* word : kTrue) {
    if (t == word) return true;
  }
  for (const char* word : kFalse) {
    if (t == word) return false;
  }
  int64_t integer = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), integer);
  if (ec == std::errc() && end == t.data() + t.size()) return integer;
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
    auto [hex_end, hex_ec] = std::from_chars(t.data() + 2, t.data() + t.size(), integer, 16);
    if (hex_ec == std::errc() && hex_end == t.data() + t.size()) return integer;
  }
  if (t.find_first_of("0123456789") != std::string::npos &&
      t.find_first_not_of("0123456789+-.eE") == std::string::npos) {
    char* parse_end = nullptr;
    const double number = std::strtod(t.c_str(), &parse_end);
    if (parse_end == t.c_str() + t.size()) return number;
  }
  if (t == ".inf" || t == ".Inf") return std::numeric_limits<double>::infinity();
  return t;
}

json YamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json object = json::object();
      for (const auto& entry : node) object[entry.first.Scalar()] = YamlToJson(entry.second);
      return object;
    }
    case YAML::NodeType::Sequence: {
      json array = json::array();
      for (const auto& item : node) array.push_back(YamlToJson(item));
      return array;
    }
    case YAML::NodeType::Scalar:
      // yaml-cpp tags quoted and block scalars "!", plain ones "?".
      if (node.Tag() == "?") return PlainScalarValue(node.Scalar());
      return node.Scalar();
    default:
      return nullptr;
  }
}

std::string FormatYamlValue(const json& value, char quote) {
  if (value.is_string()) {
    const std::string s = value.get<std::string>();
    if (quote == '\'') {
      std::string out = "'";
      for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
      return out + "'";
    }
    if (quote == 0 && IsPlainSafe(s)) return s;
    return json(s).dump();
  }
  if (value.is_object()) {
    std::string out = "{";
    bool first = true;
    for (auto it = value.begin(); it != value.end(); ++it) {
      out += (first ? "" : ", ") + FormatYamlValue(json(it.key())) + ": " +
             FormatYamlValue(it.value());
      first = false;
    }
    return out + "}";
  }
  if (value.is_array()) {
    std::string out = "[";
    for (size_t i = 0; i < value.size(); ++i) {
      out += (i == 0 ? "" : ", ") + FormatYamlValue(value[i]);
    }
    return out + "]";
  }
  if (value.is_null()) return "null";
  return value.dump();
}

std::vector<std::string> EmitBlock(const std::string& key, const json& value, int indent) {
  std::vector<std::string> lines;
  const std::string prefix = key.empty() ? "" : Indent(indent) + FormatYamlValue(json(key)) + ":";
  const bool scalar = !value.is_object() && !value.is_array();
  if (!key.empty() && (scalar || value.empty())) {
    lines.push_back(prefix + " " + FormatYamlValue(value));
    return lines;
  }
  const int child = key.empty() ? indent : indent + 2;
  if (!key.empty()) lines.push_back(prefix);
  if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      for (auto& line : EmitBlock(it.key(), it.value(), child)) lines.push_back(std::move(line));
    }
    return lines;
  }
  for (const json& item : value) {
    if (item.is_object() && !item.empty()) {
      std::vector<std::string> inner = EmitBlock("", item, child + 2);
      inner[0] = Indent(child) + "- " + inner[0].substr(static_cast<size_t>(child) + 2);
      for (auto& line : inner) lines.push_back(std::move(line));
    } else {
      lines.push_back(Indent(child) + "- " + FormatYamlValue(item));
    }
  }
  return lines;
}

}  // namespace remediator::manifest
