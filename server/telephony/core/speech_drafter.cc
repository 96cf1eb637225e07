#include "server/telephony/core/speech_drafter.h"

#include <algorithm>
#include <map>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "re2/re2.h"
#include "server/common/redact.h"
#include "server/common/status_macros.h"
#include "server/telephony/core/limits.h"

namespace remediator::telephony {
namespace {

// Longest a single free-text field may be, in words; shortened further until the whole text
// reads in kTargetSpeech.
constexpr size_t kMaxFieldWords = 18;
// Detail levels of TemplateSpeechDrafter::DraftWithDetail, from everything down to 0.
constexpr int kMaxDetail = 4;

// Kubernetes generated suffixes, in the alphabet of its random names (no vowels, no 0/1/3):
// a Deployment's pod "nginx-7d9f8b6c5-x2k4q" (ReplicaSet hash + pod suffix), a ReplicaSet
// "nginx-7d9f8b6c5", a DaemonSet/Job pod "agent-x2k4q" (suffix with a digit).
constexpr char kSafe[] = "[bcdfghjklmnpqrstvwxz2456789]";

std::string Shorten(const std::string& text, size_t max_words) {
  std::vector<std::string> words = absl::StrSplit(text, ' ', absl::SkipEmpty());
  if (words.size() <= max_words) return text;
  words.resize(max_words);
  return absl::StrJoin(words, " ") + "...";
}

// Strips a trailing period so a field can be embedded in a sentence.
std::string Clause(const std::string& text) {
  std::string out(absl::StripAsciiWhitespace(text));
  while (!out.empty() && (out.back() == '.' || out.back() == ';')) out.pop_back();
  return out;
}

std::string ClassInWords(const std::string& error_class, const std::string& lang) {
  static const auto* en = new std::map<std::string, std::string>{
      {"oom_killed", "the container ran out of memory and was killed"},
      {"crash_loop", "the container keeps crashing and restarting"},
      {"image_pull", "the container image cannot be pulled"},
      {"config_error", "its configuration is wrong"},
      {"probe_failure", "its health checks are failing"},
      {"unschedulable", "its pods cannot be scheduled on any node"},
      {"evicted", "its pods were evicted"},
      {"app_error_log", "the application is logging errors"},
      {"admission_rejected", "the cluster rejected a change"}};
  static const auto* fr = new std::map<std::string, std::string>{
      {"oom_killed", "le conteneur a manqué de mémoire et a été arrêté"},
      {"crash_loop", "le conteneur plante et redémarre en boucle"},
      {"image_pull", "l'image du conteneur ne peut pas être téléchargée"},
      {"config_error", "sa configuration est incorrecte"},
      {"probe_failure", "ses sondes de santé échouent"},
      {"unschedulable", "ses pods ne peuvent être placés sur aucun nœud"},
      {"evicted", "ses pods ont été expulsés"},
      {"app_error_log", "l'application écrit des erreurs dans ses journaux"},
      {"admission_rejected", "le cluster a refusé une modification"}};
  const auto& table = lang == "fr" ? *fr : *en;
  auto it = table.find(absl::AsciiStrToLower(error_class));
  if (it != table.end()) return it->second;
  return absl::StrReplaceAll(error_class, {{"_", " "}});
}

}  // namespace

absl::StatusOr<std::string> NormalizeLanguage(const std::string& language) {
  std::string lower = absl::AsciiStrToLower(language);
  if (lower.empty() || lower == "en" || absl::StartsWith(lower, "en-") ||
      absl::StartsWith(lower, "en_")) {
    return std::string("en");
  }
  if (lower == "fr" || absl::StartsWith(lower, "fr-") || absl::StartsWith(lower, "fr_")) {
    return std::string("fr");
  }
  return absl::InvalidArgumentError(
      absl::StrCat("language \"", language, "\" is not supported; use \"en\" or \"fr\""));
}

std::string SpokenNames(const std::string& text) {
  std::string out = text;
  static const RE2* pod =
      new RE2(absl::StrCat(R"(\b([a-z0-9][a-z0-9.\-]*?)-)", kSafe, "{6,10}-", kSafe, R"({5}\b)"));
  static const RE2* replicaset =
      new RE2(absl::StrCat(R"(\b([a-z0-9][a-z0-9.\-]*?)-)", kSafe, R"({8,10}\b)"));
  static const RE2* suffix =
      new RE2(absl::StrCat(R"(\b([a-z][a-z0-9.\-]*?)-()", kSafe, R"({5})\b)"));
  RE2::GlobalReplace(&out, *pod, R"(\1)");
  RE2::GlobalReplace(&out, *replicaset, R"(\1)");
  // A 5-character suffix with a digit ("agent-x2k4q"); other tails are kept ("web-0").
  std::string kept;
  re2::StringPiece in(out);
  std::string name, tail;
  size_t last = 0;
  while (RE2::FindAndConsume(&in, *suffix, &name, &tail)) {
    const size_t end = out.size() - in.size();
    const size_t start = end - name.size() - 1 - tail.size();
    kept += out.substr(last, start - last);
    const bool has_digit = tail.find_first_of("2456789") != std::string::npos;
    kept += has_digit ? name : out.substr(start, end - start);
    last = end;
  }
  kept += out.substr(last);
  out = kept;
  // Image digests, commit hashes and UUIDs: nobody can act on them read aloud.
  static const RE2* digest = new RE2(R"(\b(?:sha256|sha1|sha512):[0-9a-fA-F]{7,}\b)");
  static const RE2* uuid =
      new RE2(R"(\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b)");
  static const RE2* hex = new RE2(R"(\b([0-9a-fA-F]{7,})\b)");
  RE2::GlobalReplace(&out, *digest, "");
  RE2::GlobalReplace(&out, *uuid, "");
  std::string no_hex;
  re2::StringPiece rest(out);
  std::string word;
  last = 0;
  while (RE2::FindAndConsume(&rest, *hex, &word)) {
    const size_t end = out.size() - rest.size();
    const size_t start = end - word.size();
    no_hex += out.substr(last, start - last);
    // A hash mixes digits and letters; "1234567" and "defaced" are a number and a word.
    const bool digit = word.find_first_of("0123456789") != std::string::npos;
    const bool letter = word.find_first_not_of("0123456789") != std::string::npos;
    if (!(digit && letter)) no_hex += word;
    last = end;
  }
  no_hex += out.substr(last);
  return no_hex;
}

std::string SanitizeForSpeech(const std::string& text, const std::string& language) {
  std::string out = RedactSecrets(text);
  static const RE2* url = new RE2(R"([A-Za-z][A-Za-z0-9+.\-]*://\S+)");
  // user:password@host without a scheme.
  static const RE2* userinfo = new RE2(R"(\S+:\S+@[A-Za-z0-9.\-]+\S*)");
  const std::string link = language == "fr" ? "un lien" : "a link";
  RE2::GlobalReplace(&out, *url, link);
  RE2::GlobalReplace(&out, *userinfo, link);
  out = SpokenNames(out);
  out = absl::StrReplaceAll(
      out, {{kRedacted, language == "fr" ? "une valeur masquée" : "a hidden value"}});
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  std::vector<std::string> words = absl::StrSplit(out, ' ', absl::SkipEmpty());
  std::string joined = absl::StrJoin(words, " ");
  // Removed words can leave " ," or " ." behind.
  return absl::StrReplaceAll(joined, {{" ,", ","}, {" .", "."}, {" :", ":"}});
}

absl::Duration EstimateSpeechDuration(const std::string& text, int words_per_minute) {
  if (words_per_minute <= 0) words_per_minute = 175;
  std::vector<std::string> words = absl::StrSplit(text, ' ', absl::SkipEmpty());
  size_t pauses = 0;
  for (char c : text) pauses += (c == '.' || c == '?' || c == '!' || c == ',') ? 1 : 0;
  return absl::Seconds(60.0 * static_cast<double>(words.size()) / words_per_minute) +
         absl::Milliseconds(150) * static_cast<int64_t>(pauses);
}

std::string QuestionText(const std::string& language) {
  return language == "fr" ? "Pouvez-vous intervenir ? Répondez par oui ou par non."
                          : "Can you intervene? Please answer yes or no.";
}

std::string RepromptText(const std::string& language) {
  return language == "fr"
             ? "Pardon, je n'ai pas compris. Pouvez-vous intervenir ? Répondez par oui ou par non."
             : "Sorry, I did not understand. Can you intervene? Please answer yes or no.";
}

absl::StatusOr<DraftedSpeech> TemplateSpeechDrafter::Draft(const IncidentSummary& incident,
                                                           const std::string& language) {
  auto lang_or = NormalizeLanguage(language);
  if (!lang_or.ok()) return lang_or.status();
  RETURN_IF_ERROR(ValidateIncident(incident));
  // Less and less detail until the whole text reads in kTargetSpeech: what broke, where, what
  // was tried, the incident number and the question stay; the summary, the container, why it
  // failed and the cluster go first, then what was tried is shortened.
  absl::StatusOr<DraftedSpeech> out;
  for (int detail = kMaxDetail; detail >= 0; --detail) {
    out = DraftWithDetail(incident, *lang_or, detail);
    if (!out.ok() || out->estimated_duration <= kTargetSpeech) break;
  }
  return out;
}

absl::StatusOr<DraftedSpeech> TemplateSpeechDrafter::DraftWithDetail(
    const IncidentSummary& incident, const std::string& lang, int detail) {
  const size_t field_words = detail >= 4 ? kMaxFieldWords : detail >= 1 ? 10 : 6;
  auto field = [&](const std::string& v, size_t max_words) {
    return Clause(Shorten(SanitizeForSpeech(v, lang), std::min(max_words, field_words)));
  };
  const std::string name = field(incident.workload_name(), 6);
  const std::string summary = field(incident.summary(), kMaxFieldWords);
  if (name.empty() && summary.empty()) {
    return absl::InvalidArgumentError(
        "incident needs a workload_name or a summary to explain what went wrong");
  }
  const std::string kind = absl::AsciiStrToLower(field(incident.workload_kind(), 3));
  const std::string ns = field(incident.namespace_(), 6);
  const std::string cluster = detail >= 1 ? field(incident.cluster(), 6) : "";
  const std::string container = detail >= 3 ? field(incident.container(), 6) : "";
  const std::string klass = field(incident.error_class(), 8);
  const std::string tried = field(incident.what_was_tried(), kMaxFieldWords);
  const std::string why = detail >= 2 ? field(incident.why_it_failed(), kMaxFieldWords) : "";
  const std::string severity = absl::AsciiStrToLower(field(incident.severity(), 2));
  const std::string id = field(incident.incident_id(), 4);
  // Without an error class the summary is the only "what broke": it always stays then.
  const bool say_summary = !summary.empty() && (klass.empty() || name.empty() || detail >= 4);

  std::vector<std::string> s;
  const bool fr = lang == "fr";
  if (fr) {
    s.push_back(absl::StrCat("Bonjour, ici Remediator, pour un incident",
                             severity.empty() ? "" : absl::StrCat(" de gravité ", severity), "."));
    std::string where = name.empty() ? "Une application" : absl::StrCat("L'application ", name);
    if (!kind.empty()) where += absl::StrCat(", de type ", kind);
    if (!ns.empty()) where += absl::StrCat(", dans l'espace de noms ", ns);
    if (!cluster.empty()) where += absl::StrCat(", sur le cluster ", cluster);
    if (!container.empty()) where += absl::StrCat(", conteneur ", container);
    where +=
        klass.empty() ? ", a un problème." : absl::StrCat(" : ", ClassInWords(klass, lang), ".");
    s.push_back(where);
    if (say_summary) s.push_back(absl::StrCat("En résumé : ", summary, "."));
    if (!tried.empty()) s.push_back(absl::StrCat("Essayé : ", tried, "."));
    if (!why.empty()) {
      s.push_back(absl::StrCat("Sans succès : ", why, "."));
    } else {
      s.push_back(tried.empty() ? "Remediator n'a pas pu le réparer seul." : "Sans succès.");
    }
    if (!id.empty()) s.push_back(absl::StrCat("Incident numéro ", id, "."));
  } else {
    s.push_back(absl::StrCat("Hello, this is Remediator, about a",
                             severity.empty() ? "n" : absl::StrCat(" ", severity, " severity"),
                             " incident."));
    std::string where = name.empty()
                            ? "An application"
                            : absl::StrCat("The ", kind.empty() ? "workload" : kind, " ", name);
    if (!ns.empty()) where += absl::StrCat(" in namespace ", ns);
    if (!cluster.empty()) where += absl::StrCat(" on cluster ", cluster);
    if (!container.empty()) where += absl::StrCat(", container ", container, ",");
    where += klass.empty() ? " has a problem." : absl::StrCat(": ", ClassInWords(klass, lang), ".");
    s.push_back(where);
    if (say_summary) s.push_back(absl::StrCat("In short: ", summary, "."));
    if (!tried.empty()) s.push_back(absl::StrCat("Remediator tried: ", tried, "."));
    if (!why.empty()) {
      s.push_back(absl::StrCat("It did not work: ", why, "."));
    } else {
      s.push_back(tried.empty() ? "Remediator could not fix it on its own." : "It did not work.");
    }
    if (!id.empty()) s.push_back(absl::StrCat("Incident number ", id, "."));
  }
  DraftedSpeech out;
  out.text = absl::StrCat(absl::StrJoin(s, " "), " ", QuestionText(lang));
  out.source = "template";
  out.estimated_duration = EstimateSpeechDuration(out.text);
  return out;
}

}  // namespace remediator::telephony
