// Edits a YAML file the way a person would: only the lines of the changed fields change, and
// everything else — comments, key order, quoting, blank lines, other documents — is kept byte
// for byte. This is what makes a fix's diff and pull request readable.
//
// Supports block-style YAML as Kubernetes manifests are written (maps and lists in block
// style, scalars plain or quoted, flow collections left untouched unless the change is inside
// them, in which case that collection is re-emitted in flow style on its line).
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_MANIFEST_YAML_TEXT_EDIT_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_MANIFEST_YAML_TEXT_EDIT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "server/remediator/core/manifest/field_path.h"

namespace remediator::manifest {

// A change to apply: set `path` to `value` (null removes the field).
struct TextChange {
  FieldPath path;
  nlohmann::json value;
};

// Applies `changes` to document `document_index` (0-based, documents separated by "---") of
// `text` and returns the new text. Existing scalars are replaced in place; missing keys are
// inserted under their parent with the parent's child indentation; removed keys lose their
// lines. InvalidArgument when the document does not exist, the path cannot be found or
// created, or the text is not YAML. The result always parses to the document with the changes
// applied (checked before returning; Internal if not, which would be a bug).
absl::StatusOr<std::string> ApplyChangesToYamlText(const std::string& text, int document_index,
                                                   const std::vector<TextChange>& changes);

// The documents of a multi-document YAML text, parsed to JSON (null documents are kept so that
// indexes match the file). InvalidArgument with "line N" for a syntax error.
absl::StatusOr<std::vector<nlohmann::json>> ParseYamlDocuments(const std::string& text);

// A unified diff (3 lines of context) from `before` to `after`, with the given file names in
// the ---/+++ header ("a/path", "b/path").
std::string UnifiedDiff(const std::string& before, const std::string& after,
                        const std::string& path);

}  // namespace remediator::manifest

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_MANIFEST_YAML_TEXT_EDIT_H_
