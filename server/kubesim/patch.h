// The three PATCH semantics of the Kubernetes API on JSON documents.
#ifndef REMEDIATOR_SERVER_KUBESIM_PATCH_H_
#define REMEDIATOR_SERVER_KUBESIM_PATCH_H_

#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace remediator::kubesim {

// RFC 7386 JSON merge patch: objects merge recursively, null deletes a key, anything else
// (arrays included) replaces. InvalidArgument never (every JSON value is a valid merge patch).
nlohmann::json MergePatch(const nlohmann::json& original, const nlohmann::json& patch);

// RFC 6902 JSON patch (add, remove, replace, move, copy, test). `patch` must be an array.
// InvalidArgument naming the failing operation (a failed `test` or a missing path).
absl::StatusOr<nlohmann::json> JsonPatch(const nlohmann::json& original,
                                         const nlohmann::json& patch);

// Strategic merge patch as the apiserver applies it to built-in types:
//  - lists with a merge key are merged element by element: containers, initContainers,
//    ephemeralContainers, env, volumes, imagePullSecrets (by "name"), ports (by "containerPort",
//    or "port" for Service ports), volumeMounts ("mountPath"), volumeDevices ("devicePath"),
//    conditions ("type"), ownerReferences ("uid"), hostAliases ("ip");
//  - primitive lists with merge strategy (finalizers) are unions; other lists are replaced;
//  - `null` deletes a key; directives `$patch: replace|delete|merge` (in maps and list
//    elements), `$setElementOrder/<list>`, `$retainKeys`, `$deleteFromPrimitiveList/<list>`.
// InvalidArgument when a list element of a keyed list lacks its merge key, or a directive is
// malformed.
absl::StatusOr<nlohmann::json> StrategicMergePatch(const nlohmann::json& original,
                                                   const nlohmann::json& patch);

// The merge key of the list stored under `field`, or "" when the list is replaced wholesale.
// `sample` is an element of the list (to tell container ports from service ports).
std::string MergeKeyFor(const std::string& field, const nlohmann::json& sample);

}  // namespace remediator::kubesim

#endif  // REMEDIATOR_SERVER_KUBESIM_PATCH_H_
