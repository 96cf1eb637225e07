// Helpers for reading YAML configuration files with errors a person can act on: every error names
// the file, the line and the key, e.g.
//   /etc/remediator.yaml:7: key "listen": wants a string like HOST:PORT, got a list
// yaml-cpp throws; these helpers catch at this edge and return absl::Status.
#ifndef REMEDIATOR_SERVER_COMMON_YAML_CONFIG_H_
#define REMEDIATOR_SERVER_COMMON_YAML_CONFIG_H_

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "yaml-cpp/yaml.h"

namespace remediator {

// A parsed YAML document and the name it came from (a path, or "<inline>").
struct YamlDocument {
  std::string name;
  YAML::Node root;
};

// Reads and parses `path`. NotFound when the file is missing; InvalidArgument with
// "path:line:column: message" on a syntax error.
absl::StatusOr<YamlDocument> LoadYamlFile(const std::string& path);

// Parses `text`; `name` is used in error messages.
absl::StatusOr<YamlDocument> ParseYaml(const std::string& text, const std::string& name);

// Builds "name:line: key \"key\": what" for `node` (1-based line).
absl::Status YamlError(const YamlDocument& doc, const YAML::Node& node, std::string_view key,
                       std::string_view what);

// Each reader leaves `*out` untouched when `key` is absent or null in `map` (so defaults stay),
// and returns InvalidArgument naming file, line and key when the value has the wrong type.
absl::Status ReadString(const YamlDocument& doc, const YAML::Node& map, std::string_view key,
                        std::string* out);
absl::Status ReadInt(const YamlDocument& doc, const YAML::Node& map, std::string_view key,
                     int* out);
absl::Status ReadDouble(const YamlDocument& doc, const YAML::Node& map, std::string_view key,
                        double* out);
absl::Status ReadBool(const YamlDocument& doc, const YAML::Node& map, std::string_view key,
                      bool* out);
// Durations are written like Go's: "30s", "1m30s", "250ms", "2h".
absl::Status ReadDuration(const YamlDocument& doc, const YAML::Node& map, std::string_view key,
                          absl::Duration* out);
absl::Status ReadStringList(const YamlDocument& doc, const YAML::Node& map, std::string_view key,
                            std::vector<std::string>* out);

// Returns InvalidArgument naming the first key of `map` that is not in `allowed` (a typo in a
// config file must not be silently ignored), or when `map` is not a mapping.
absl::Status CheckKnownKeys(const YamlDocument& doc, const YAML::Node& map,
                            const std::set<std::string>& allowed, std::string_view where);

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_COMMON_YAML_CONFIG_H_
