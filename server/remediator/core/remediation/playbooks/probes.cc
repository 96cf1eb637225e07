// The probe playbooks. A failing probe (or a container restarted by its failing liveness probe)
// is corrected from facts of the pod itself:
//   probe-port     the probe aims at a port the container does not expose, and it exposes
//                  exactly one: aim at that one; or the probe's connection is refused and the
//                  container's own logs say which single port it listens on: aim there.
//   probe-path     HTTP 404 on the probe's path, while another probe of the container on the
//                  same port succeeds with another path: use that path.
//   probe-timeout  the probe times out ("context deadline exceeded", "Client.Timeout"):
//                  timeoutSeconds x3 (5..30 s), and a CPU limit under 500m is doubled.
#include <algorithm>
#include <optional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "server/common/status_macros.h"
#include "server/remediator/core/manifest/json_access.h"
#include "server/remediator/core/remediation/playbooks/playbook.h"
#include "server/remediator/core/remediation/playbooks/playbook_util.h"
#include "server/remediator/core/remediation/quantity.h"

namespace remediator::remediation::playbooks {
namespace {

using json = nlohmann::json;
using manifest::At;
using manifest::Int;
using manifest::Str;

constexpr const char* kProbes[] = {"livenessProbe", "readinessProbe", "startupProbe"};

std::string PortText(const json& port) {
  return port.is_string() ? port.get<std::string>() : port.dump();
}

// Which probes the evidence says fail (all of the container's when it does not say).
std::vector<std::string> FailingProbes(const json& container, const std::string& text) {
  std::vector<std::string> failing;
  for (const auto& [probe, word] :
       std::vector<std::pair<std::string, std::string>>{{"livenessProbe", "Liveness"},
                                                        {"readinessProbe", "Readiness"},
                                                        {"startupProbe", "Startup"}}) {
    if (container.contains(probe) && absl::StrContains(text, word + " probe failed")) {
      failing.push_back(probe);
    }
  }
  if (failing.empty()) {
    for (const char* probe : kProbes) {
      if (container.contains(probe)) failing.push_back(probe);
    }
  }
  return failing;
}

const char* Handler(const json& probe) {
  if (probe.contains("httpGet")) return "httpGet";
  if (probe.contains("tcpSocket")) return "tcpSocket";
  if (probe.contains("grpc")) return "grpc";
  return nullptr;
}

// The one port the container's logs say it listens on ("listening on :9090", "Listening on
// port 9090", "Tomcat started on port(s): 9090", "Running on http://0.0.0.0:9090"...).
std::optional<int> LoggedPort(const std::string& logs) {
  std::set<int> ports;
  for (absl::string_view line : absl::StrSplit(logs, '\n')) {
    const std::string lower = absl::AsciiStrToLower(line);
    bool announces = false;
    for (const char* phrase :
         {"listening on", "listening at", "started on port", "running on", "serving on",
          "server started on", "listen on", "bound to", "started server on", "now listening on"}) {
      announces = announces || absl::StrContains(lower, phrase);
    }
    if (!announces) continue;
    // The last number of 2..5 digits after a ':' or "port" is the port.
    std::optional<int> found;
    for (size_t i = 0; i < lower.size(); ++i) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(lower[i]))) continue;
      size_t j = i;
      while (j < lower.size() && absl::ascii_isdigit(static_cast<unsigned char>(lower[j]))) ++j;
      const bool after_colon = i > 0 && lower[i - 1] == ':';
      const bool after_port =
          i >= 5 && (lower.compare(i - 5, 5, "port ") == 0 || lower.compare(i - 2, 2, ": ") == 0);
      int port = 0;
      if ((after_colon || after_port) && j - i >= 2 && j - i <= 5 &&
          absl::SimpleAtoi(lower.substr(i, j - i), &port) && port > 0 && port < 65536) {
        found = port;
      }
      i = j;
    }
    if (found) ports.insert(*found);
  }
  if (ports.size() != 1) return std::nullopt;
  return *ports.begin();
}

struct ProbeFix {
  std::vector<ProposedChange> changes;
  std::vector<std::string> reasons;
};

void FixPort(const Target& t, const std::string& probe, const char* handler,
             const Evidence& evidence, const std::string& text, ProbeFix& fix) {
  const json port = At(At((*t.container)[probe], handler), "port");
  if (port.is_null()) return;
  std::vector<json> ports;
  for (const json& p : At(*t.container, "ports")) ports.push_back(p);
  bool exposed = false;
  for (const json& p : ports) {
    exposed = exposed || (port.is_number() && Int(p, "containerPort", -1) == port.get<int>()) ||
              (port.is_string() && Str(p, "name") == port.get<std::string>());
  }
  json right;
  std::string why;
  if (!exposed && ports.size() == 1 && ports[0].contains("containerPort")) {
    right = ports[0]["containerPort"];
    why = absl::StrCat("the container does not expose it; it exposes ", right.dump());
  } else if (absl::StrContains(text, "connection refused")) {
    std::optional<int> logged = LoggedPort(Logs(evidence));
    if (!logged || (port.is_number() && port.get<int>() == *logged)) return;
    right = *logged;
    why = absl::StrCat("the connection is refused, and the container's logs say it listens on ",
                       *logged);
  } else {
    return;
  }
  fix.changes.push_back({Join(t.path, {Key(probe), Key(handler), Key("port")}), right,
                         absl::StrCat(probe, " aims at port ", PortText(port), ": ", why)});
  fix.reasons.push_back(absl::StrCat(probe, ": port ", PortText(port), " -> ", right.dump()));
}

void FixPath(const Target& t, const std::string& probe, const std::vector<std::string>& failing,
             const std::string& text, ProbeFix& fix) {
  const json& spec = (*t.container)[probe];
  if (!spec.contains("httpGet") || !absl::StrContains(text, "statuscode: 404")) return;
  const json port = At(spec["httpGet"], "port");
  const json path = At(spec["httpGet"], "path").is_null() ? json("/") : spec["httpGet"]["path"];
  for (const char* other : kProbes) {
    if (other == probe || !t.container->contains(other)) continue;
    const bool other_fails =
        std::find(failing.begin(), failing.end(), other) != failing.end() && failing.size() > 1;
    const json& get = At((*t.container)[other], "httpGet");
    if (other_fails || !get.is_object() || !get.contains("path") || At(get, "port") != port ||
        get["path"] == path) {
      continue;
    }
    fix.changes.push_back(
        {Join(t.path, {Key(probe), Key("httpGet"), Key("path")}), get["path"],
         absl::StrCat(probe, " gets 404 on ", path.dump(), "; ", other, " on the same port uses ",
                      get["path"].dump(), " and succeeds")});
    fix.reasons.push_back(absl::StrCat(probe, ": path ", path.dump(), " -> ", get["path"].dump()));
    return;
  }
}

void FixTimeout(const Target& t, const std::string& probe, const std::string& text, ProbeFix& fix) {
  if (!absl::StrContains(text, "context deadline exceeded") &&
      !absl::StrContains(text, "Client.Timeout") && !absl::StrContains(text, "timed out")) {
    return;
  }
  const int old_timeout = static_cast<int>(Int((*t.container)[probe], "timeoutSeconds", 1));
  const int new_timeout = std::clamp(old_timeout * 3, 5, 30);
  if (new_timeout <= old_timeout) return;
  fix.changes.push_back({Join(t.path, {Key(probe), Key("timeoutSeconds")}), new_timeout,
                         absl::StrCat(probe, " times out after ", old_timeout, "s")});
  fix.reasons.push_back(absl::StrCat(probe, ": timeoutSeconds ", old_timeout, " -> ", new_timeout));
  // A CPU-starved container answers probes late: give it more CPU too (once).
  const json cpu = At(At(At(*t.container, "resources"), "limits"), "cpu");
  for (const ProposedChange& c : fix.changes) {
    if (manifest::FormatFieldPath(c.path).ends_with("limits.cpu")) return;
  }
  absl::StatusOr<double> cores =
      cpu.is_null() ? absl::StatusOr<double>(absl::NotFoundError("")) : ParseQuantity(cpu);
  if (cores.ok() && *cores < 0.5) {
    const std::string doubled = FormatCpu(*cores * 2);
    fix.changes.push_back({Join(t.path, {Key("resources"), Key("limits"), Key("cpu")}), doubled,
                           absl::StrCat("the CPU limit ", cpu.dump(), " starves the probe")});
    fix.reasons.push_back(absl::StrCat("cpu limit ", PortText(cpu), " -> ", doubled));
  }
}

absl::StatusOr<Proposal> FixProbes(const FixContext& context, const PlaybookOptions&) {
  ASSIGN_OR_RETURN(Target target, TargetContainer(context));
  const std::string text = StatusText(context.evidence);
  if (context.evidence.incident.error_class() != v1::ERROR_CLASS_PROBE_FAILURE &&
      !absl::StrContains(text, "probe failed")) {
    return NotApplicable("no probe failure in the evidence");
  }
  const std::vector<std::string> failing = FailingProbes(*target.container, text);
  if (failing.empty()) return NotApplicable("the container has no probe to fix");
  ProbeFix fix;
  for (const std::string& probe : failing) {
    const char* handler = Handler((*target.container)[probe]);
    if (handler == nullptr) continue;
    const size_t before = fix.changes.size();
    FixPort(target, probe, handler, context.evidence, text, fix);
    if (fix.changes.size() == before) FixPath(target, probe, failing, text, fix);
    if (fix.changes.size() == before) FixTimeout(target, probe, text, fix);
  }
  if (fix.changes.empty()) {
    return NotApplicable(
        "the probe evidence does not determine a fix (the right port or path is not known)");
  }
  Proposal proposal;
  proposal.strategy = "playbook/probe";
  proposal.changes = std::move(fix.changes);
  proposal.explanation = absl::StrCat("Container ", target.name, " fails its probes. ",
                                      absl::StrJoin(fix.reasons, "; "), ".");
  return proposal;
}

}  // namespace

extern const Playbook kFixProbes = {
    "probe", {v1::ERROR_CLASS_PROBE_FAILURE, v1::ERROR_CLASS_CRASH_LOOP}, FixProbes};

}  // namespace remediator::remediation::playbooks
