// Field paths name one field of a Kubernetes manifest, the way people and LLMs write them:
//
//   spec.replicas
//   spec.template.spec.containers[name=nginx].resources.limits.memory
//   spec.template.spec.containers[0].image
//   spec.template.spec.containers[name=web].env[name=LOG_LEVEL].value
//   metadata.annotations["example.com/owner"]      (quoted keys may hold dots and slashes)
//
// A segment is a map key, a list index ([N]) or a list element chosen by a key field
// ([key=value], the strategic-merge-patch merge key: name for containers, env, volumes...).
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_MANIFEST_FIELD_PATH_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_MANIFEST_FIELD_PATH_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace remediator::manifest {

struct PathSegment {
  enum class Kind { kKey, kIndex, kSelector };
  Kind kind = Kind::kKey;
  std::string key;    // kKey: the map key; kSelector: the field compared (e.g. "name")
  std::string value;  // kSelector: the value it must have
  size_t index = 0;   // kIndex
  bool operator==(const PathSegment&) const = default;
};

using FieldPath = std::vector<PathSegment>;

// Parses the text form. InvalidArgument naming the position for an empty path, an unclosed
// bracket, an empty key or a bad index.
absl::StatusOr<FieldPath> ParseFieldPath(const std::string& text);

// The canonical text form (selectors as [key=value], keys with '.', '[' or quotes quoted).
std::string FormatFieldPath(const FieldPath& path);

// The value at `path` in `doc`, or nullptr when any segment is missing.
const nlohmann::json* FindField(const nlohmann::json& doc, const FieldPath& path);

// Sets the value at `path`, creating missing maps (and, for a selector, a list element
// {key: value}); a null `value` removes the field, unless `null_removes` is false, in which case
// an explicit null is stored (as a merge patch spells "delete"). InvalidArgument when the path
// crosses a value of the wrong type (a key into a list, an index past the end).
absl::Status SetField(nlohmann::json& doc, const FieldPath& path, const nlohmann::json& value,
                      bool null_removes = true);

// One leaf that differs between two documents.
struct LeafChange {
  FieldPath path;
  nlohmann::json before;  // null when absent
  nlohmann::json after;   // null when removed
};

// Every leaf that differs between `before` and `after`. Lists whose elements are all objects
// with a "name" (or "containerPort", "mountPath", "devicePath") key are matched by that key, as
// strategic merge patch does; other lists are compared as whole values (one change for the
// list). Object values added or removed whole are reported leaf by leaf.
std::vector<LeafChange> DiffDocuments(const nlohmann::json& before, const nlohmann::json& after);

}  // namespace remediator::manifest

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_MANIFEST_FIELD_PATH_H_
