#include "server/remediator/core/remediation/playbooks/playbook_util.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/remediator/core/manifest/json_access.h"
#include "server/remediator/core/remediation/exec_content.h"
#include "server/remediator/core/remediation/guard.h"

namespace remediator::remediation::playbooks {

using json = nlohmann::json;
using manifest::At;
using manifest::FieldPath;
using manifest::PathSegment;
using manifest::Str;

absl::Status NotApplicable(const std::string& why) {
  return absl::NotFoundError(absl::StrCat("not applicable: ", why));
}

PathSegment Key(const std::string& key) { return {PathSegment::Kind::kKey, key, "", 0}; }

PathSegment Named(const std::string& name) {
  return {PathSegment::Kind::kSelector, "name", name, 0};
}

FieldPath Join(FieldPath base, std::initializer_list<PathSegment> more) {
  for (const auto& s : more) base.push_back(s);
  return base;
}

FieldPath PodPath(const json& manifest) {
  FieldPath path;
  const std::string prefix = PodSpecPrefix(Str(manifest, "kind"));
  if (prefix.empty()) return path;
  for (const std::string& key : std::vector<std::string>(absl::StrSplit(prefix, '.'))) {
    path.push_back(Key(key));
  }
  return path;
}

absl::StatusOr<Target> TargetContainer(const FixContext& context) {
  const FieldPath pod_path = PodPath(context.manifest);
  const json* pod = pod_path.empty() ? nullptr : manifest::FindField(context.manifest, pod_path);
  if (pod == nullptr || !At(*pod, "containers").is_array() || At(*pod, "containers").empty()) {
    return NotApplicable(
        absl::StrCat("a ", Str(context.manifest, "kind"), " has no pod template to edit"));
  }
  const std::string wanted = context.evidence.incident.workload().container();
  for (const char* list : {"containers", "initContainers"}) {
    const json& containers = At(*pod, list);
    if (!containers.is_array()) continue;
    for (const json& c : containers) {
      const bool only =
          wanted.empty() && std::string(list) == "containers" && containers.size() == 1;
      if (only || (!wanted.empty() && Str(c, "name") == wanted)) {
        Target t;
        t.name = Str(c, "name");
        t.container = &c;
        t.pod = pod;
        t.path = Join(pod_path, {Key(list), Named(t.name)});
        t.init = std::string(list) == "initContainers";
        return t;
      }
    }
  }
  return NotApplicable(wanted.empty()
                           ? "the incident names no container and the pod has several"
                           : absl::StrCat("no container \"", wanted, "\" in the manifest"));
}

std::string StatusText(const Evidence& evidence) {
  std::string text = evidence.incident.summary() + "\n" + evidence.incident.reason() + "\n";
  for (const auto& line : evidence.incident.evidence()) text += line + "\n";
  for (const json& event : evidence.events) {
    text += Str(event, "reason") + ": " + Str(event, "message") + Str(event, "note") + "\n";
  }
  for (const json& pod : evidence.pods) {
    const json& status = At(pod, "status");
    for (const json& c : At(status, "conditions")) text += Str(c, "message") + "\n";
    for (const char* list : {"containerStatuses", "initContainerStatuses"}) {
      for (const json& cs : At(status, list)) {
        for (const char* when : {"state", "lastState"}) {
          const json& state = At(cs, when);
          if (!state.is_object()) continue;
          for (auto it = state.begin(); it != state.end(); ++it) {
            text += Str(it.value(), "reason") + ": " + Str(it.value(), "message") + "\n";
          }
        }
      }
    }
  }
  return text;
}

const std::string& Logs(const Evidence& evidence) { return evidence.logs; }

std::optional<std::string> Between(const std::string& text, const std::string& before,
                                   const std::string& enders) {
  const size_t at = text.find(before);
  if (at == std::string::npos) return std::nullopt;
  const size_t start = at + before.size();
  const size_t end = text.find_first_of(enders, start);
  std::string out = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (out.empty()) return std::nullopt;
  return out;
}

namespace {

std::string Fold(const std::string& s) {
  std::string out = absl::AsciiStrToLower(s);
  for (char& c : out) {
    if (c == '-' || c == '.') c = '_';
  }
  return out;
}

}  // namespace

std::optional<std::string> UniqueClosest(const std::string& wanted,
                                         const std::vector<std::string>& candidates,
                                         int max_distance) {
  int best = max_distance + 1;
  std::vector<std::string> at_best;
  for (const std::string& c : candidates) {
    const int d = Fold(c) == Fold(wanted) ? 0 : EditDistance(Fold(c), Fold(wanted));
    if (d < best) {
      best = d;
      at_best = {c};
    } else if (d == best) {
      at_best.push_back(c);
    }
  }
  if (best > max_distance || at_best.size() != 1) return std::nullopt;
  // Short names are easily confused: demand the distance be small against the length.
  if (best > 0 && static_cast<int>(wanted.size()) < 3 * best) return std::nullopt;
  return at_best[0];
}

}  // namespace remediator::remediation::playbooks
