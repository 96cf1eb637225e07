#include "server/remediator/core/remediation/llm_answer.h"

#include <optional>

#include "absl/algorithm/container.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "server/common/llm_text.h"
#include "server/common/redact.h"
#include "server/common/status_macros.h"
#include "server/remediator/core/manifest/json_access.h"
#include "server/remediator/core/manifest/yaml_text_edit.h"

namespace remediator::remediation {
namespace {

using json = nlohmann::json;
using manifest::FieldPath;
using manifest::PathSegment;
using manifest::Str;

constexpr size_t kMaxReasonBytes = 600;
constexpr size_t kMaxExplanationBytes = 2000;
// Scanning restarts at most this many times: bounds the work on hostile text ("{{{{...").
constexpr int kMaxObjectCandidates = 256;
constexpr int kMaxYamlTrims = 40;

std::string Bound(std::string text, size_t max) {
  if (text.size() > max) {
    text.resize(max);
    text += "...";
  }
  return text;
}

std::string Clean(const std::string& text, size_t max) {
  return Bound(RedactSecrets(std::string(absl::StripAsciiWhitespace(text))), max);
}

absl::Status Invalid(const std::string& why) { return absl::InvalidArgumentError(why); }

absl::Status CutOff(const std::string& detail) {
  return Invalid(absl::StrCat("the model's answer was cut off (", detail,
                              "); raise max_tokens or use a model that reasons less"));
}

// The end (one past the closing brace) of the balanced object opening at `text[start]`, or
// npos when the text ends first. Braces inside JSON strings do not count.
size_t BalancedEnd(const std::string& text, size_t start) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = start; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::string::npos;
}

struct ObjectScan {
  std::vector<json> objects;  // every balanced, parseable top-level object, in order
  bool unbalanced = false;    // an object opened and the text ended first
};

ObjectScan ScanObjects(const std::string& text) {
  ObjectScan scan;
  size_t pos = 0;
  for (int tries = 0; tries < kMaxObjectCandidates; ++tries) {
    const size_t start = text.find('{', pos);
    if (start == std::string::npos) break;
    const size_t end = BalancedEnd(text, start);
    if (end == std::string::npos) {
      scan.unbalanced = true;
      break;
    }
    json parsed = json::parse(text.substr(start, end - start), nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object()) {
      scan.objects.push_back(std::move(parsed));
      pos = end;
    } else {
      pos = start + 1;  // prose like "{x}" or a YAML flow map: look inside and after it
    }
  }
  return scan;
}

absl::StatusOr<ProposedChange> ReadChange(const json& change, size_t index) {
  const std::string where = absl::StrCat("change ", index + 1, " of the model's answer");
  if (!change.is_object()) return Invalid(absl::StrCat(where, " is not an object"));
  const json& path_value = manifest::At(change, "path");
  if (!path_value.is_string() || path_value.get<std::string>().empty()) {
    return Invalid(absl::StrCat(where, " has no \"path\" string"));
  }
  ProposedChange out;
  auto path = ParseModelPath(path_value.get<std::string>());
  if (!path.ok()) return Invalid(absl::StrCat(where, ": ", path.status().message()));
  out.path = *std::move(path);
  const std::string op = absl::AsciiStrToLower(Str(change, "op", "set"));
  if (op == "remove" || op == "delete") {
    out.value = json();
  } else if (op == "set" || op == "replace" || op == "add" || op == "update") {
    if (!change.contains("value")) {
      return Invalid(absl::StrCat(where, " (", path_value.get<std::string>(),
                                  ") has no \"value\"; use \"op\": \"remove\" to remove a field"));
    }
    out.value = change["value"];
    if (absl::StrContains(out.value.dump(), kRedacted)) {
      return Invalid(absl::StrCat(where, " writes the ", kRedacted,
                                  " mask into the manifest; secrets are never shown to the model"));
    }
  } else {
    return Invalid(
        absl::StrCat(where, " has an unknown op \"", Bound(op, 40), "\" (expected set or remove)"));
  }
  out.reason = Clean(Str(change, "reason"), kMaxReasonBytes);
  return out;
}

absl::StatusOr<LlmEdit> ReadJsonEdit(const json& edit) {
  LlmEdit out;
  out.form = "json-edit";
  const json& changes = edit["changes"];
  std::vector<std::string> reasons;
  for (size_t i = 0; i < changes.size(); ++i) {
    ASSIGN_OR_RETURN(ProposedChange change, ReadChange(changes[i], i));
    if (!change.reason.empty()) {
      reasons.push_back(absl::StrCat(manifest::FormatFieldPath(change.path), ": ", change.reason));
    }
    out.changes.push_back(std::move(change));
  }
  std::string explanation = Str(edit, "explanation");
  if (explanation.empty()) explanation = Str(edit, "reason");
  if (explanation.empty() && out.changes.empty()) {
    explanation = "the model proposed no change and gave no reason";
  }
  if (!reasons.empty()) {
    explanation = explanation.empty()
                      ? absl::StrJoin(reasons, "; ")
                      : absl::StrCat(explanation, " (", absl::StrJoin(reasons, "; "), ")");
  }
  out.explanation = Clean(explanation, kMaxExplanationBytes);
  return out;
}

bool IsEdit(const json& object) {
  return object.is_object() && object.contains("changes") && object["changes"].is_array();
}

bool IsManifest(const json& object) {
  return object.is_object() && object.contains("kind") && object["kind"].is_string() &&
         object.contains("apiVersion");
}

std::string ObjectName(const json& object) {
  return absl::StrCat(Str(object, "kind"), "/", Str(manifest::At(object, "metadata"), "name"));
}

// Whole-manifest candidates in YAML text: each document that is a manifest.
void CollectYamlManifests(const std::string& text, std::vector<json>* out) {
  auto docs = manifest::ParseYamlDocuments(text);
  if (!docs.ok()) return;
  for (json& doc : *docs) {
    if (IsManifest(doc)) out->push_back(std::move(doc));
  }
}

// A bare YAML manifest in prose: from the first unindented "apiVersion:" or "kind:" line, with
// trailing prose lines dropped until the rest parses.
void CollectBareYaml(const std::string& text, std::vector<json>* out) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  size_t first = lines.size();
  for (size_t i = 0; i < lines.size(); ++i) {
    if (absl::StartsWith(lines[i], "apiVersion:") || absl::StartsWith(lines[i], "kind:")) {
      first = i;
      break;
    }
  }
  if (first == lines.size()) return;
  size_t last = lines.size();
  for (int trims = 0; trims < kMaxYamlTrims && last > first; ++trims, --last) {
    std::vector<json> found;
    std::vector<std::string> slice(lines.begin() + first, lines.begin() + last);
    CollectYamlManifests(absl::StrJoin(slice, "\n"), &found);
    if (!found.empty()) {
      for (json& f : found) out->push_back(std::move(f));
      return;
    }
  }
}

bool UnderIgnoredRoot(const FieldPath& path) {
  return !path.empty() && path[0].kind == PathSegment::Kind::kKey &&
         (path[0].key == "metadata" || path[0].key == "status");
}

absl::StatusOr<LlmEdit> DiffManifest(const json& current, const json& proposed) {
  LlmEdit out;
  out.form = "manifest";
  size_t removed = 0;
  for (manifest::LeafChange& leaf : manifest::DiffDocuments(current, proposed)) {
    // The prompt masks secret env values; a model that copies the mask back changes nothing.
    if (UnderIgnoredRoot(leaf.path) || absl::StrContains(leaf.after.dump(), kRedacted)) {
      continue;
    }
    // A field the model's manifest lacks is a removal: it is proposed as one, so that the
    // guard judges it (a dropped probe or limit is refused, never silently kept or applied).
    ProposedChange change;
    change.path = std::move(leaf.path);
    change.value = std::move(leaf.after);
    if (change.value.is_null()) ++removed;
    change.reason = change.value.is_null() ? "absent from the manifest the model returned"
                                           : "set in the manifest the model returned";
    out.changes.push_back(std::move(change));
  }
  out.explanation =
      out.changes.empty()
          ? "the model returned the manifest unchanged"
          : absl::StrCat("the model returned a whole manifest; it changes ",
                         out.changes.size() - removed, " field(s) and removes ", removed);
  return out;
}

}  // namespace

std::vector<std::string> FencedBlocks(const std::string& text) {
  std::vector<std::string> blocks;
  size_t pos = 0;
  while (true) {
    const size_t open = text.find("```", pos);
    if (open == std::string::npos) break;
    size_t body = text.find('\n', open);
    if (body == std::string::npos) break;
    ++body;
    const size_t close = text.find("```", body);
    if (close == std::string::npos) {
      blocks.push_back(text.substr(body));
      break;
    }
    blocks.push_back(text.substr(body, close - body));
    pos = close + 3;
  }
  return blocks;
}

absl::StatusOr<FieldPath> ParseModelPath(const std::string& raw) {
  std::string text(absl::StripAsciiWhitespace(raw));
  if (absl::StartsWith(text, "$.")) text = text.substr(2);
  if (!text.empty() && text[0] == '/') {
    FieldPath path;
    for (absl::string_view token : absl::StrSplit(absl::string_view(text).substr(1), '/')) {
      std::string key = absl::StrReplaceAll(token, {{"~1", "/"}, {"~0", "~"}});
      if (key.empty()) {
        return Invalid(absl::StrCat("JSON pointer \"", Bound(raw, 200), "\" has an empty segment"));
      }
      size_t index = 0;
      if (absl::c_all_of(key, absl::ascii_isdigit) && absl::SimpleAtoi(key, &index)) {
        path.push_back({PathSegment::Kind::kIndex, "", "", index});
      } else {
        path.push_back({PathSegment::Kind::kKey, key, "", 0});
      }
    }
    return path;
  }
  if (!text.empty() && text[0] == '.') text = text.substr(1);
  return manifest::ParseFieldPath(text);
}

absl::StatusOr<LlmEdit> ParseLlmAnswer(const std::string& content, const std::string& finish_reason,
                                       const json& current_manifest) {
  if (content.size() > kMaxAnswerBytes) {
    return Invalid(absl::StrCat("the model's answer is too long (", content.size(),
                                " bytes, at most ", kMaxAnswerBytes, ")"));
  }
  const std::string text = StripThinkBlocks(content);
  // A length stop means the text ends mid-way: even an object that happens to balance, or a
  // manifest that parses, may be missing its end, and a missing field reads as "unchanged" or
  // "removed". Never guess.
  if (finish_reason == "length") {
    return CutOff(text.empty() ? "finish_reason length, inside its reasoning"
                               : "finish_reason length");
  }
  if (finish_reason == "content_filter") {
    return Invalid("the server's content filter withheld the model's answer");
  }
  if (text.empty()) {
    return Invalid(absl::StripAsciiWhitespace(content).empty()
                       ? "the model's answer is empty"
                       : "the model's answer is only reasoning (an unclosed <think> block)");
  }
  const ObjectScan scan = ScanObjects(text);
  for (const json& object : scan.objects) {
    if (IsEdit(object)) return ReadJsonEdit(object);
  }
  // No edit object: look for a whole manifest of the same object.
  std::vector<json> manifests;
  for (const json& object : scan.objects) {
    if (IsManifest(object)) manifests.push_back(object);
  }
  for (const std::string& block : FencedBlocks(text)) CollectYamlManifests(block, &manifests);
  if (manifests.empty()) CollectBareYaml(text, &manifests);
  const std::string wanted = ObjectName(current_manifest);
  std::vector<std::string> others;
  for (const json& candidate : manifests) {
    if (ObjectName(candidate) == wanted) return DiffManifest(current_manifest, candidate);
    others.push_back(ObjectName(candidate));
  }
  if (!others.empty()) {
    return Invalid(absl::StrCat("the model returned a manifest of ",
                                Bound(absl::StrJoin(others, ", "), 200), ", not of ", wanted));
  }
  if (scan.unbalanced) return CutOff("a JSON object never closes");
  return Invalid(absl::StrCat(
      "the model's answer holds neither a JSON edit {\"changes\": [...]} nor a manifest of ",
      wanted, "; it begins: \"", Bound(RedactSecrets(text.substr(0, 120)), 140), "\""));
}

}  // namespace remediator::remediation
