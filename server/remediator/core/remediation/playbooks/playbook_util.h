// What the playbooks share: paths into the pod template, the target container, the evidence as
// text, and small string helpers. Internal to this folder.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_PLAYBOOKS_PLAYBOOK_UTIL_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_PLAYBOOKS_PLAYBOOK_UTIL_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "server/remediator/core/manifest/field_path.h"
#include "server/remediator/core/remediation/fix_strategy.h"

namespace remediator::remediation::playbooks {

// NotFound "not applicable: <why>".
absl::Status NotApplicable(const std::string& why);

manifest::PathSegment Key(const std::string& key);
manifest::PathSegment Named(const std::string& name);
manifest::FieldPath Join(manifest::FieldPath base,
                         std::initializer_list<manifest::PathSegment> more);

// The pod spec's path for the manifest's kind ("spec.template.spec"...).
manifest::FieldPath PodPath(const nlohmann::json& manifest);

struct Target {
  std::string name;                 // the container's name
  const nlohmann::json* container;  // in the manifest
  const nlohmann::json* pod;        // the pod spec in the manifest
  manifest::FieldPath path;         // ...containers[name=X]
  bool init = false;                // an init container
};

// The container the incident is about: the named one (containers or initContainers), or the
// only one. NotApplicable when there is none to edit.
absl::StatusOr<Target> TargetContainer(const FixContext& context);

// Every text that says what failed: the incident, the events, the pods' container states.
std::string StatusText(const Evidence& evidence);
// The failing container's logs.
const std::string& Logs(const Evidence& evidence);

// The text between `before` and the first of `enders` after it (e.g. the key in "couldn't
// find key X in Secret"), or nullopt.
std::optional<std::string> Between(const std::string& text, const std::string& before,
                                   const std::string& enders);

// The one candidate closest to `wanted` (case-insensitive, '-'/'_'/'.' alike, then edit
// distance at most `max_distance`), or nullopt when none is close or two are equally close.
std::optional<std::string> UniqueClosest(const std::string& wanted,
                                         const std::vector<std::string>& candidates,
                                         int max_distance = 2);

}  // namespace remediator::remediation::playbooks

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_PLAYBOOKS_PLAYBOOK_UTIL_H_
