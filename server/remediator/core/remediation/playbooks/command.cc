// command-typo: the runtime cannot start the container because a word of its command is not an
// executable (`exec: "ngnix": executable file not found in $PATH`, `stat ...: no such file or
// directory`), or the program rejects an argument ("flag provided but not defined: -confg",
// "unknown flag: --confg", "unrecognized arguments: --confg"). When an earlier revision of the
// workload ran a command (or args) that differs from the current one only in close words, the
// playbook goes back to those words: a token-level correction, the only command change the
// guard lets through.
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/common/status_macros.h"
#include "server/remediator/core/manifest/json_access.h"
#include "server/remediator/core/remediation/exec_content.h"
#include "server/remediator/core/remediation/playbooks/playbook.h"
#include "server/remediator/core/remediation/playbooks/playbook_util.h"

namespace remediator::remediation::playbooks {
namespace {

using json = nlohmann::json;
using manifest::At;
using manifest::Str;

// The word the evidence says is wrong, or nullopt.
std::optional<std::string> BadWord(const std::string& text) {
  for (const char* before :
       {"exec: \"", "stat ", "flag provided but not defined: ", "unknown flag: ",
        "unrecognized arguments: ", "unknown option: ", "Unknown option: ", "unknown command \"",
        "invalid option: \"", "invalid option -- '", "invalid option "}) {
    std::optional<std::string> word = Between(text, before, "\": \n'");
    if (word) return word;
  }
  return std::nullopt;
}

// True when `old` and `now` have as many words and every differing word is close.
bool OnlyCloseWords(const json& old, const json& now) {
  const std::vector<std::string> a = CommandTokens(old), b = CommandTokens(now);
  return !a.empty() && a != b && !NotATokenCorrection(b, a).has_value();
}

absl::StatusOr<Proposal> FixCommandTypo(const FixContext& context, const PlaybookOptions&) {
  ASSIGN_OR_RETURN(Target target, TargetContainer(context));
  const std::string text = StatusText(context.evidence) + "\n" + Logs(context.evidence);
  std::optional<std::string> bad = BadWord(text);
  if (!bad) return NotApplicable("the evidence names no unknown executable or argument");
  const char* list = target.init ? "initContainers" : "containers";
  for (const char* field : {"command", "args"}) {
    const json& now = At(*target.container, field);
    const std::vector<std::string> words = CommandTokens(now);
    bool has_bad = false;
    for (const std::string& w : words) {
      has_bad =
          has_bad || w == *bad || absl::StartsWith(w, *bad + "=") || absl::StrContains(w, *bad);
    }
    if (!has_bad) continue;
    for (const json& spec : context.evidence.facts.older_pod_specs) {
      for (const json& c : At(spec, list)) {
        if (Str(c, "name") != target.name) continue;
        const json& old = At(c, field);
        if (!OnlyCloseWords(old, now)) continue;
        Proposal proposal;
        proposal.strategy = "playbook/command-typo";
        proposal.changes.push_back(
            {Join(target.path,
                  {manifest::PathSegment{manifest::PathSegment::Kind::kKey, field, "", 0}}),
             old,
             absl::StrCat("\"", *bad,
                          "\" is not known to the container; the previous revision ran ",
                          old.dump())});
        proposal.explanation = absl::StrCat(
            "Container ", target.name, " cannot run its ", field, ": \"", *bad, "\" is not known (",
            field == std::string("command") ? "no such executable" : "the program rejects it",
            "). The previous revision ran ", old.dump(),
            ", which differs only in close words: the playbook corrects those words.");
        return proposal;
      }
    }
  }
  return NotApplicable(absl::StrCat("no earlier revision shows how \"", *bad,
                                    "\" was spelled: the right word is not known"));
}

}  // namespace

extern const Playbook kFixCommandTypo = {
    "command-typo",
    {v1::ERROR_CLASS_CRASH_LOOP, v1::ERROR_CLASS_CONFIG_ERROR, v1::ERROR_CLASS_APP_ERROR_LOG},
    FixCommandTypo};

}  // namespace remediator::remediation::playbooks
