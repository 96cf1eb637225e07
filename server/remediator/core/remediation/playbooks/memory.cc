// oom-raise-memory: a container killed for exceeding its memory limit (OOMKilled, or runc's
// "container init was OOM-killed") gets a larger limit: x memory_factor, at least min_memory
// (64Mi: below it real images such as nginx with one worker per CPU do not start), and when
// the container runs a JVM whose heap (-Xmx, in args or JAVA_TOOL_OPTIONS / JAVA_OPTS) needs
// more, enough for the heap at 75 % of the limit. At most max_memory; requests stay within it.
#include <algorithm>
#include <cmath>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/common/status_macros.h"
#include "server/remediator/core/manifest/json_access.h"
#include "server/remediator/core/remediation/playbooks/playbook.h"
#include "server/remediator/core/remediation/playbooks/playbook_util.h"
#include "server/remediator/core/remediation/quantity.h"

namespace remediator::remediation::playbooks {
namespace {

using json = nlohmann::json;
using manifest::At;
using manifest::Str;

// "-Xmx512m" -> bytes; the JVM's units (k, m, g, t; none = bytes).
std::optional<double> HeapBytes(const std::string& text) {
  const size_t at = text.rfind("-Xmx");
  if (at == std::string::npos) return std::nullopt;
  size_t end = at + 4;
  while (end < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[end]))) ++end;
  double value = 0;
  if (!absl::SimpleAtod(text.substr(at + 4, end - at - 4), &value) || value <= 0) {
    return std::nullopt;
  }
  const char unit = end < text.size() ? absl::ascii_tolower(text[end]) : ' ';
  const double scale = unit == 'k'   ? 1024.0
                       : unit == 'm' ? 1024.0 * 1024
                       : unit == 'g' ? 1024.0 * 1024 * 1024
                       : unit == 't' ? 1024.0 * 1024 * 1024 * 1024
                                     : 1.0;
  return value * scale;
}

// The largest -Xmx the container passes, in args, command or a JVM options variable.
std::optional<double> JvmHeap(const json& container) {
  std::optional<double> heap;
  auto consider = [&](const std::string& text) {
    std::optional<double> h = HeapBytes(text);
    if (h && (!heap || *h > *heap)) heap = h;
  };
  for (const char* list : {"command", "args"}) {
    for (const json& a : At(container, list)) {
      if (a.is_string()) consider(a.get<std::string>());
    }
  }
  for (const json& e : At(container, "env")) {
    const std::string name = Str(e, "name");
    if (name == "JAVA_TOOL_OPTIONS" || name == "JAVA_OPTS" || name == "_JAVA_OPTIONS" ||
        name == "JDK_JAVA_OPTIONS") {
      consider(Str(e, "value"));
    }
  }
  return heap;
}

absl::StatusOr<Proposal> RaiseMemory(const FixContext& context, const PlaybookOptions& options) {
  ASSIGN_OR_RETURN(Target target, TargetContainer(context));
  const std::string text = StatusText(context.evidence);
  if (context.evidence.incident.error_class() != v1::ERROR_CLASS_OOM_KILLED &&
      !absl::StrContains(text, "OOMKilled") && !absl::StrContains(text, "OOM-killed")) {
    return NotApplicable("the container was not killed for its memory");
  }
  const json& resources = At(*target.container, "resources");
  const json limit = At(At(resources, "limits"), "memory");
  if (limit.is_null()) {
    return NotApplicable(absl::StrCat(
        "container ", target.name,
        " has no memory limit, so the kill came from node memory pressure, not from its limit"));
  }
  ASSIGN_OR_RETURN(double old_bytes, ParseQuantity(limit));
  ASSIGN_OR_RETURN(double floor, ParseQuantity(options.min_memory));
  ASSIGN_OR_RETURN(double cap, ParseQuantity(options.max_memory));
  if (old_bytes >= cap) {
    return NotApplicable(absl::StrCat("the memory limit ", limit.dump(), " is already at the cap ",
                                      options.max_memory, ": this needs a person"));
  }
  double wanted = std::max(old_bytes * options.memory_factor, floor);
  std::string why_size =
      absl::StrCat(options.memory_factor, "x (at least ", options.min_memory, ")");
  const std::optional<double> heap = JvmHeap(*target.container);
  if (heap && *heap / 0.75 > wanted) {
    wanted = *heap / 0.75;
    why_size =
        absl::StrCat("enough for its JVM heap of ", FormatMemory(*heap), " at 75 % of the limit");
  }
  // Whole mebibytes, within the cap and within the guard's bound (8x, or 128Mi).
  wanted = std::ceil(wanted / (1024.0 * 1024)) * 1024 * 1024;
  const double new_bytes = std::min({cap, wanted, std::max(old_bytes * 8, 128.0 * 1024 * 1024)});
  if (new_bytes <= old_bytes) return NotApplicable("a larger limit is not allowed");
  const std::string new_limit = FormatMemory(new_bytes);
  Proposal proposal;
  proposal.strategy = "playbook/oom-raise-memory";
  const manifest::FieldPath base = Join(target.path, {Key("resources")});
  proposal.changes.push_back(
      {Join(base, {Key("limits"), Key("memory")}), new_limit,
       absl::StrCat("raise the memory limit from ", limit.get<std::string>(), " to ", new_limit)});
  const json request = At(At(resources, "requests"), "memory");
  absl::StatusOr<double> request_bytes =
      request.is_null() ? absl::StatusOr<double>(0.0) : ParseQuantity(request);
  if (request_bytes.ok() && *request_bytes > new_bytes) {
    proposal.changes.push_back({Join(base, {Key("requests"), Key("memory")}), new_limit,
                                "keep the memory request within the limit"});
  }
  proposal.explanation = absl::StrCat(
      "Container ", target.name, " was OOM-killed: its memory limit ", limit.get<std::string>(),
      " is below what it uses. The playbook raises the limit ", why_size, " to ", new_limit,
      " (at most ", options.max_memory, "); requests stay within the limit.");
  return proposal;
}

}  // namespace

extern const Playbook kRaiseMemory = {
    "oom-raise-memory", {v1::ERROR_CLASS_OOM_KILLED, v1::ERROR_CLASS_CRASH_LOOP}, RaiseMemory};

}  // namespace remediator::remediation::playbooks
