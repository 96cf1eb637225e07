// The environment playbooks:
//   key-ref         CreateContainerConfigError "couldn't find key X in Secret ns/name" (or
//                   ConfigMap): the env entry's key becomes the one key of that object that is
//                   unambiguously closest to X. A missing object is for a person.
//   env-from-secret the container's logs say a required variable is not set, and exactly one
//                   Secret or ConfigMap key of the namespace has that variable's name (or the
//                   object's name and key together spell it: database/url for DATABASE_URL):
//                   the variable comes from that key (valueFrom), never a literal value.
#include <optional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/common/status_macros.h"
#include "server/remediator/core/manifest/json_access.h"
#include "server/remediator/core/remediation/playbooks/playbook.h"
#include "server/remediator/core/remediation/playbooks/playbook_util.h"

namespace remediator::remediation::playbooks {
namespace {

using json = nlohmann::json;
using manifest::At;
using manifest::Str;

absl::StatusOr<Proposal> FixKeyRef(const FixContext& context, const PlaybookOptions&) {
  ASSIGN_OR_RETURN(Target target, TargetContainer(context));
  const std::string text = StatusText(context.evidence);
  for (const auto& [kind, ref] : std::vector<std::pair<std::string, std::string>>{
           {"Secret", "secretKeyRef"}, {"ConfigMap", "configMapKeyRef"}}) {
    std::optional<std::string> key = Between(text, "couldn't find key ", " \n");
    if (!key) continue;
    std::optional<std::string> where =
        Between(text, "couldn't find key " + *key + " in " + kind + " ", " \n\"");
    if (!where) continue;
    const std::string object = where->substr(where->find('/') + 1);
    const auto& objects = kind == "Secret" ? context.evidence.facts.secret_keys
                                           : context.evidence.facts.config_map_keys;
    const auto found = objects.find(object);
    if (found == objects.end()) {
      return NotApplicable(absl::StrCat("the ", kind, " ", object, " could not be read"));
    }
    std::optional<std::string> right =
        UniqueClosest(*key, std::vector<std::string>(found->second.begin(), found->second.end()));
    if (!right) {
      return NotApplicable(absl::StrCat("no key of ", kind, " ", object,
                                        " is unambiguously close to \"", *key, "\""));
    }
    for (const json& e : At(*target.container, "env")) {
      const json& r = At(At(e, "valueFrom"), ref.c_str());
      if (Str(r, "name") != object || Str(r, "key") != *key) continue;
      Proposal proposal;
      proposal.strategy = "playbook/key-ref";
      proposal.changes.push_back({Join(target.path, {Key("env"), Named(Str(e, "name")),
                                                     Key("valueFrom"), Key(ref), Key("key")}),
                                  *right,
                                  absl::StrCat(kind, " ", object, " has no key \"", *key, "\"; \"",
                                               *right, "\" is its closest key")});
      proposal.explanation =
          absl::StrCat("Container ", target.name, " cannot start: its variable ", Str(e, "name"),
                       " reads key \"", *key, "\" of ", kind, " ", object,
                       ", which has no such key. ", "The playbook uses \"", *right,
                       "\", the one key of that ", kind, " close to the name given.");
      return proposal;
    }
  }
  if (absl::StrContains(text, "\" not found")) {
    return NotApplicable("a referenced Secret or ConfigMap does not exist: a person creates it");
  }
  return NotApplicable("no missing Secret or ConfigMap key in the evidence");
}

// Upper-case variable names in the log lines that say a variable is missing.
std::vector<std::string> MissingVariables(const std::string& logs) {
  std::vector<std::string> names;
  for (absl::string_view line : absl::StrSplit(logs, '\n')) {
    const std::string lower = absl::AsciiStrToLower(line);
    bool says = false;
    for (const char* phrase :
         {"not set", "must be set", "is required", "missing", "keyerror", "undefined", "please set",
          "no value", "is empty", "not defined", "unset"}) {
      says = says || absl::StrContains(lower, phrase);
    }
    if (!says) continue;
    std::string word;
    auto flush = [&] {
      const bool upper =
          word.size() >= 3 && absl::ascii_isupper(static_cast<unsigned char>(word[0]));
      bool all = upper;
      for (char c : word) {
        all = all && (absl::ascii_isupper(static_cast<unsigned char>(c)) ||
                      absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '_');
      }
      if (all && word.find('_') != std::string::npos) names.push_back(word);
      word.clear();
    };
    for (char c : std::string(line)) {
      if (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_') {
        word += c;
      } else {
        flush();
      }
    }
    flush();
  }
  return names;
}

std::string Fold(const std::string& s) {
  std::string out = absl::AsciiStrToLower(s);
  for (char& c : out) {
    if (c == '-' || c == '.') c = '_';
  }
  return out;
}

struct Source {
  std::string ref;  // secretKeyRef / configMapKeyRef
  std::string object;
  std::string key;
};

std::vector<Source> SourcesFor(const ClusterFacts& facts, const std::string& variable) {
  std::vector<Source> found;
  for (const auto& [ref, objects] :
       std::vector<std::pair<std::string, const std::map<std::string, std::set<std::string>>*>>{
           {"secretKeyRef", &facts.secret_keys}, {"configMapKeyRef", &facts.config_map_keys}}) {
    for (const auto& [object, keys] : *objects) {
      for (const std::string& key : keys) {
        if (Fold(key) == Fold(variable) || Fold(object + "_" + key) == Fold(variable)) {
          found.push_back({ref, object, key});
        }
      }
    }
  }
  return found;
}

absl::StatusOr<Proposal> EnvFromSecret(const FixContext& context, const PlaybookOptions&) {
  ASSIGN_OR_RETURN(Target target, TargetContainer(context));
  std::set<std::string> set_already;
  for (const json& e : At(*target.container, "env")) {
    if (!Str(e, "value").empty() || e.contains("valueFrom")) set_already.insert(Str(e, "name"));
  }
  for (const std::string& variable : MissingVariables(Logs(context.evidence))) {
    if (set_already.count(variable) > 0) continue;
    const std::vector<Source> sources = SourcesFor(context.evidence.facts, variable);
    if (sources.size() != 1) continue;
    const Source& s = sources[0];
    const manifest::FieldPath entry = Join(target.path, {Key("env"), Named(variable)});
    Proposal proposal;
    proposal.strategy = "playbook/env-from-secret";
    const std::string reason = absl::StrCat("the logs say ", variable, " is not set; ",
                                            s.ref == "secretKeyRef" ? "Secret " : "ConfigMap ",
                                            s.object, " has the key ", s.key);
    proposal.changes.push_back(
        {Join(entry, {Key("valueFrom"), Key(s.ref), Key("name")}), s.object, reason});
    proposal.changes.push_back({Join(entry, {Key("valueFrom"), Key(s.ref), Key("key")}), s.key,
                                "the key holding the value"});
    const json* old = nullptr;
    for (const json& e : At(*target.container, "env")) {
      if (Str(e, "name") == variable) old = &e;
    }
    if (old != nullptr && old->contains("value")) {
      proposal.changes.push_back({Join(entry, {Key("value")}), json(), "replaced by valueFrom"});
    }
    proposal.explanation = absl::StrCat(
        "Container ", target.name, " exits because ", variable,
        " is not set (its logs say so). The playbook sets it from ",
        s.ref == "secretKeyRef" ? "Secret " : "ConfigMap ", s.object, " key ", s.key,
        ", the only key of the namespace with that name; the value itself is never copied.");
    return proposal;
  }
  return NotApplicable(
      "the logs name no missing variable that exactly one Secret or ConfigMap key provides");
}

}  // namespace

extern const Playbook kFixKeyRef = {"key-ref", {v1::ERROR_CLASS_CONFIG_ERROR}, FixKeyRef};
extern const Playbook kEnvFromSecret = {
    "env-from-secret",
    {v1::ERROR_CLASS_CRASH_LOOP, v1::ERROR_CLASS_APP_ERROR_LOG, v1::ERROR_CLASS_CONFIG_ERROR},
    EnvFromSecret};

}  // namespace remediator::remediation::playbooks
