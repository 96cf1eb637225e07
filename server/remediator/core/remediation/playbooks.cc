#include "server/remediator/core/remediation/playbooks.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "server/common/status_macros.h"
#include "server/remediator/core/manifest/json_access.h"
#include "server/remediator/core/remediation/guard.h"
#include "server/remediator/core/remediation/quantity.h"

namespace remediator::remediation {
namespace {

using json = nlohmann::json;
using manifest::At;
using manifest::FieldPath;
using manifest::Int;
using manifest::PathSegment;
using manifest::Str;

absl::Status NotApplicable(const std::string& why) {
  return absl::NotFoundError(absl::StrCat("not applicable: ", why));
}

FieldPath PodPath(const std::string& kind) {
  FieldPath path;
  for (const std::string& key :
       std::vector<std::string>(absl::StrSplit(PodSpecPrefix(kind), '.'))) {
    path.push_back({PathSegment::Kind::kKey, key, "", 0});
  }
  return path;
}

FieldPath Join(FieldPath base, std::initializer_list<PathSegment> more) {
  for (const auto& s : more) base.push_back(s);
  return base;
}

PathSegment Key(const std::string& key) { return {PathSegment::Kind::kKey, key, "", 0}; }
PathSegment Named(const std::string& name) {
  return {PathSegment::Kind::kSelector, "name", name, 0};
}

// The container the incident is about: the named one, or the only one.
absl::StatusOr<const json*> TargetContainer(const FixContext& context, std::string* name) {
  const std::string kind = Str(context.manifest, "kind");
  const json* pod = manifest::FindField(context.manifest, PodPath(kind));
  if (PodSpecPrefix(kind).empty() || pod == nullptr || !pod->contains("containers") ||
      !(*pod)["containers"].is_array() || (*pod)["containers"].empty()) {
    return NotApplicable(absl::StrCat("a ", kind, " has no pod template to edit"));
  }
  const json& containers = (*pod)["containers"];
  const std::string wanted = context.evidence.incident.workload().container();
  for (const json& c : containers) {
    if ((wanted.empty() && containers.size() == 1) || Str(c, "name") == wanted) {
      *name = Str(c, "name");
      return &c;
    }
  }
  return NotApplicable(wanted.empty()
                           ? "the incident names no container and the pod has several"
                           : absl::StrCat("no container \"", wanted, "\" in the manifest"));
}

// Every text that says what failed: summary, evidence, event messages, logs.
std::string EvidenceText(const Evidence& evidence) {
  std::string text = evidence.incident.summary() + "\n" + evidence.incident.reason() + "\n";
  for (const auto& line : evidence.incident.evidence()) text += line + "\n";
  for (const json& event : evidence.events) {
    text += Str(event, "reason") + ": " + Str(event, "message") + Str(event, "note") + "\n";
  }
  return text;
}

std::string PortText(const json& port) {
  return port.is_string() ? port.get<std::string>() : port.dump();
}

}  // namespace

absl::StatusOr<json> ApplyProposal(const json& manifest_object, const Proposal& proposal) {
  json edited = manifest_object;
  for (const ProposedChange& change : proposal.changes) {
    RETURN_IF_ERROR(manifest::SetField(edited, change.path, change.value));
  }
  return edited;
}

absl::StatusOr<Proposal> PlaybookStrategy::Propose(const FixContext& context) {
  switch (context.evidence.incident.error_class()) {
    case v1::ERROR_CLASS_OOM_KILLED:
      return RaiseMemory(context);
    case v1::ERROR_CLASS_PROBE_FAILURE:
      return FixProbe(context);
    default:
      return NotApplicable(
          absl::StrCat("no playbook for this error class (",
                       v1::ErrorClass_Name(context.evidence.incident.error_class()),
                       "): its evidence does not determine a fix"));
  }
}

absl::StatusOr<Proposal> PlaybookStrategy::RaiseMemory(const FixContext& context) {
  std::string name;
  ASSIGN_OR_RETURN(const json* container, TargetContainer(context, &name));
  const std::string kind = Str(context.manifest, "kind");
  const json limit = container->contains("resources")
                         ? At(At(At(*container, "resources"), "limits"), "memory")
                         : json();
  if (limit.is_null()) {
    return NotApplicable(absl::StrCat(
        "container ", name,
        " has no memory limit, so the kill came from node memory pressure, not from its limit"));
  }
  ASSIGN_OR_RETURN(double old_bytes, ParseQuantity(limit));
  ASSIGN_OR_RETURN(double floor, ParseQuantity(options_.min_memory));
  ASSIGN_OR_RETURN(double cap, ParseQuantity(options_.max_memory));
  if (old_bytes >= cap) {
    return NotApplicable(absl::StrCat("the memory limit ", limit.dump(), " is already at the cap ",
                                      options_.max_memory, ": this needs a person"));
  }
  const double new_bytes = std::min(cap, std::max(old_bytes * options_.memory_factor, floor));
  const std::string new_limit = FormatMemory(new_bytes);
  Proposal proposal;
  proposal.strategy = "playbook/oom-raise-memory";
  const FieldPath base = Join(PodPath(kind), {Key("containers"), Named(name), Key("resources")});
  proposal.changes.push_back(
      {Join(base, {Key("limits"), Key("memory")}), new_limit,
       absl::StrCat("raise the memory limit from ", limit.get<std::string>(), " to ", new_limit)});
  const json request = At(At(At(*container, "resources"), "requests"), "memory");
  if (!request.is_null()) {
    absl::StatusOr<double> request_bytes = ParseQuantity(request);
    if (request_bytes.ok() && *request_bytes > new_bytes) {
      proposal.changes.push_back({Join(base, {Key("requests"), Key("memory")}), new_limit,
                                  "keep the memory request within the limit"});
    }
  }
  proposal.explanation = absl::StrCat(
      "Container ", name, " was OOM-killed: its memory limit ", limit.get<std::string>(),
      " is below what it uses. The playbook raises the limit ", options_.memory_factor,
      "x (at least ", options_.min_memory, ", at most ", options_.max_memory, ") to ", new_limit,
      "; requests stay within the limit.");
  return proposal;
}

absl::StatusOr<Proposal> PlaybookStrategy::FixProbe(const FixContext& context) {
  std::string name;
  ASSIGN_OR_RETURN(const json* container, TargetContainer(context, &name));
  const std::string kind = Str(context.manifest, "kind");
  const std::string text = EvidenceText(context.evidence);
  const FieldPath base = Join(PodPath(kind), {Key("containers"), Named(name)});

  // Which probes are failing, per the evidence (all of them when it does not say).
  std::vector<std::string> failing;
  for (const auto& [probe, word] :
       std::vector<std::pair<std::string, std::string>>{{"livenessProbe", "Liveness"},
                                                        {"readinessProbe", "Readiness"},
                                                        {"startupProbe", "Startup"}}) {
    if (container->contains(probe) && absl::StrContains(text, word + " probe failed")) {
      failing.push_back(probe);
    }
  }
  if (failing.empty()) {
    for (const char* probe : {"livenessProbe", "readinessProbe", "startupProbe"}) {
      if (container->contains(probe)) failing.push_back(probe);
    }
  }
  if (failing.empty()) return NotApplicable("the container has no probe to fix");

  std::vector<json> ports;
  if (container->contains("ports") && (*container)["ports"].is_array()) {
    for (const json& p : (*container)["ports"]) ports.push_back(p);
  }
  auto exposes = [&](const json& port) {
    for (const json& p : ports) {
      if ((port.is_number() && Int(p, "containerPort", -1) == port.get<int>()) ||
          (port.is_string() && Str(p, "name") == port.get<std::string>())) {
        return true;
      }
    }
    return false;
  };

  Proposal proposal;
  std::vector<std::string> reasons;
  for (const std::string& probe : failing) {
    const json& spec = (*container)[probe];
    const char* handler = spec.contains("httpGet")     ? "httpGet"
                          : spec.contains("tcpSocket") ? "tcpSocket"
                                                       : nullptr;
    if (handler == nullptr) continue;
    const json port = At(spec[handler], "port");
    // probe-port
    if (!port.is_null() && !exposes(port) && ports.size() == 1 &&
        ports[0].contains("containerPort")) {
      const json right = ports[0]["containerPort"];
      proposal.changes.push_back(
          {Join(base, {Key(probe), Key(handler), Key("port")}), right,
           absl::StrCat(probe, " aims at port ", PortText(port),
                        ", which the container does not expose; it exposes ", right.dump())});
      reasons.push_back(absl::StrCat(probe, ": port ", PortText(port), " -> ", right.dump()));
      continue;
    }
    // probe-path
    if (std::string(handler) == "httpGet" && absl::StrContains(text, "statuscode: 404")) {
      for (const char* other : {"readinessProbe", "livenessProbe", "startupProbe"}) {
        if (other == probe || !container->contains(other)) continue;
        if (std::find(failing.begin(), failing.end(), other) != failing.end() &&
            failing.size() > 1) {
          continue;
        }
        const json& other_get = At((*container)[other], "httpGet");
        if (!other_get.is_object() || !other_get.contains("path")) continue;
        if (At(other_get, "port") != port) continue;
        const json path =
            At(spec["httpGet"], "path").is_null() ? json("/") : At(spec["httpGet"], "path");
        if (other_get["path"] == path) continue;
        proposal.changes.push_back(
            {Join(base, {Key(probe), Key("httpGet"), Key("path")}), other_get["path"],
             absl::StrCat(probe, " gets 404 on ", path.dump(), "; ", other,
                          " on the same port uses ", other_get["path"].dump(), " and succeeds")});
        reasons.push_back(
            absl::StrCat(probe, ": path ", path.dump(), " -> ", other_get["path"].dump()));
        break;
      }
      continue;
    }
    // probe-timeout
    if (absl::StrContains(text, "context deadline exceeded") ||
        absl::StrContains(text, "Client.Timeout") || absl::StrContains(text, "timed out")) {
      const int old_timeout = static_cast<int>(Int(spec, "timeoutSeconds", 1));
      const int new_timeout = std::clamp(old_timeout * 3, 5, 30);
      if (new_timeout > old_timeout) {
        proposal.changes.push_back({Join(base, {Key(probe), Key("timeoutSeconds")}), new_timeout,
                                    absl::StrCat(probe, " times out after ", old_timeout, "s")});
        reasons.push_back(
            absl::StrCat(probe, ": timeoutSeconds ", old_timeout, " -> ", new_timeout));
      }
    }
  }
  // A CPU-starved container answers probes late: give it more CPU too.
  if (!reasons.empty() && absl::StrContains(reasons.back(), "timeoutSeconds")) {
    const json cpu = container->contains("resources")
                         ? At(At(At(*container, "resources"), "limits"), "cpu")
                         : json();
    absl::StatusOr<double> cores =
        cpu.is_null() ? absl::StatusOr<double>(absl::NotFoundError("")) : ParseQuantity(cpu);
    if (cores.ok() && *cores < 0.5) {
      const std::string doubled = FormatCpu(*cores * 2);
      proposal.changes.push_back(
          {Join(base, {Key("resources"), Key("limits"), Key("cpu")}), doubled,
           absl::StrCat("the CPU limit ", cpu.dump(), " starves the probe handler")});
      reasons.push_back(absl::StrCat("cpu limit ", PortText(cpu), " -> ", doubled));
    }
  }
  if (proposal.changes.empty()) {
    return NotApplicable(
        "the probe evidence does not determine a fix (the right port or path is not known)");
  }
  proposal.strategy = "playbook/probe";
  proposal.explanation =
      absl::StrCat("Container ", name, " fails its probes. ", absl::StrJoin(reasons, "; "), ".");
  return proposal;
}

}  // namespace remediator::remediation
