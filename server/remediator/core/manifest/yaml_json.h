// Conversion from yaml-cpp nodes to JSON with Kubernetes' reading of plain scalars (null, bool,
// int, float; everything else and every quoted scalar is a string), and formatting of JSON
// values back into YAML text.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_MANIFEST_YAML_JSON_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_MANIFEST_YAML_JSON_H_

#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "yaml-cpp/yaml.h"

namespace remediator::manifest {

// Throws nothing; unknown node types become null.
nlohmann::json YamlToJson(const YAML::Node& node);

// The JSON value of a plain (unquoted) scalar's text.
nlohmann::json PlainScalarValue(const std::string& text);

// `value` as a YAML scalar or flow collection on one line. `quote` is the quote character the
// replaced scalar used ('\'', '"' or 0 for plain), kept when the new value is a string.
std::string FormatYamlValue(const nlohmann::json& value, char quote = 0);

// `value` as block YAML lines under `key` at `indent` spaces ("key: v", or "key:" and nested
// lines). With an empty key, the lines of `value` itself (a map's entries or a list's items).
std::vector<std::string> EmitBlock(const std::string& key, const nlohmann::json& value, int indent);

}  // namespace remediator::manifest

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_MANIFEST_YAML_JSON_H_
