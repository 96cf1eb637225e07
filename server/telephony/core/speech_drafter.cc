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

namespace remediator::telephony {
namespace {

// Longest a single free-text field may be, in words, so the whole text stays under ~40 s.
constexpr size_t kMaxFieldWords = 22;

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

std::string SanitizeForSpeech(const std::string& text, const std::string& language) {
  std::string out = RedactSecrets(text);
  static const RE2* url = new RE2(R"([A-Za-z][A-Za-z0-9+.\-]*://\S+)");
  // user:password@host without a scheme.
  static const RE2* userinfo = new RE2(R"(\S+:\S+@[A-Za-z0-9.\-]+\S*)");
  const std::string link = language == "fr" ? "un lien" : "a link";
  RE2::GlobalReplace(&out, *url, link);
  RE2::GlobalReplace(&out, *userinfo, link);
  out = absl::StrReplaceAll(
      out, {{kRedacted, language == "fr" ? "une valeur masquée" : "a hidden value"}});
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  std::vector<std::string> words = absl::StrSplit(out, ' ', absl::SkipEmpty());
  return absl::StrJoin(words, " ");
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
  // Shorten the free-text fields further until the whole text reads in at most 40 s.
  absl::StatusOr<DraftedSpeech> out;
  for (size_t limit : {kMaxFieldWords, size_t{14}, size_t{9}, size_t{5}}) {
    out = DraftWithLimit(incident, *lang_or, limit);
    if (!out.ok() || out->estimated_duration <= absl::Seconds(40)) break;
  }
  return out;
}

absl::StatusOr<DraftedSpeech> TemplateSpeechDrafter::DraftWithLimit(const IncidentSummary& incident,
                                                                    const std::string& lang,
                                                                    size_t max_field_words) {
  auto field = [&](const std::string& v, size_t max_words = kMaxFieldWords) {
    return Clause(Shorten(SanitizeForSpeech(v, lang), std::min(max_words, max_field_words)));
  };
  const std::string name = field(incident.workload_name(), 6);
  const std::string summary = field(incident.summary());
  if (name.empty() && summary.empty()) {
    return absl::InvalidArgumentError(
        "incident needs a workload_name or a summary to explain what went wrong");
  }
  const std::string kind = absl::AsciiStrToLower(field(incident.workload_kind(), 3));
  const std::string ns = field(incident.namespace_(), 6);
  const std::string cluster = field(incident.cluster(), 6);
  const std::string container = field(incident.container(), 6);
  const std::string klass = field(incident.error_class(), 8);
  const std::string tried = field(incident.what_was_tried());
  const std::string why = field(incident.why_it_failed());
  const std::string severity = absl::AsciiStrToLower(field(incident.severity(), 2));
  const std::string id = field(incident.incident_id(), 4);

  std::vector<std::string> s;
  const bool fr = lang == "fr";
  if (fr) {
    s.push_back(absl::StrCat("Bonjour. Ici Remediator, le système de réparation automatique. ",
                             "Je vous appelle pour un incident",
                             severity.empty() ? "" : absl::StrCat(" de gravité ", severity),
                             " qui demande une personne."));
    std::string where = name.empty() ? "Une application" : absl::StrCat("L'application ", name);
    if (!kind.empty()) where += absl::StrCat(", de type ", kind);
    if (!ns.empty()) where += absl::StrCat(", dans l'espace de noms ", ns);
    if (!cluster.empty()) where += absl::StrCat(", sur le cluster ", cluster);
    if (!container.empty()) where += absl::StrCat(", conteneur ", container);
    where += klass.empty() ? ", a un problème."
                           : absl::StrCat(", a un problème : ", ClassInWords(klass, lang), ".");
    s.push_back(where);
    if (!summary.empty()) s.push_back(absl::StrCat("En résumé : ", summary, "."));
    if (!tried.empty()) s.push_back(absl::StrCat("Remediator a essayé ceci : ", tried, "."));
    if (!why.empty()) {
      s.push_back(absl::StrCat("Cela n'a pas suffi : ", why, "."));
    } else if (!tried.empty()) {
      s.push_back("Cela n'a pas suffi.");
    } else {
      s.push_back("Remediator n'a pas pu le réparer seul.");
    }
    if (!id.empty()) s.push_back(absl::StrCat("Le numéro de l'incident est ", id, "."));
  } else {
    s.push_back(absl::StrCat("Hello. This is Remediator, the automatic incident responder. ",
                             "I am calling about a",
                             severity.empty() ? "" : absl::StrCat(" ", severity, " severity"),
                             " incident that needs a person."));
    std::string where = name.empty()
                            ? "An application"
                            : absl::StrCat("The ", kind.empty() ? "workload" : kind, " ", name);
    if (!ns.empty()) where += absl::StrCat(", in namespace ", ns);
    if (!cluster.empty()) where += absl::StrCat(", on cluster ", cluster);
    if (!container.empty()) where += absl::StrCat(", container ", container);
    where += klass.empty() ? ", has a problem."
                           : absl::StrCat(", has a problem: ", ClassInWords(klass, lang), ".");
    s.push_back(where);
    if (!summary.empty()) s.push_back(absl::StrCat("In short: ", summary, "."));
    if (!tried.empty()) s.push_back(absl::StrCat("Remediator tried this: ", tried, "."));
    if (!why.empty()) {
      s.push_back(absl::StrCat("It did not work: ", why, "."));
    } else if (!tried.empty()) {
      s.push_back("It did not work.");
    } else {
      s.push_back("Remediator could not fix it on its own.");
    }
    if (!id.empty()) s.push_back(absl::StrCat("The incident number is ", id, "."));
  }
  // Keep the call at least ~20 s: with few details, repeat where the problem is.
  std::string body = absl::StrJoin(s, " ");
  if (EstimateSpeechDuration(body) < absl::Seconds(17)) {
    const std::string subject = name.empty() ? summary : name;
    body += fr ? absl::StrCat(" Je répète : ", subject, " a besoin d'une intervention humaine.",
                              " Les détails sont dans le tableau de bord de Remediator.")
               : absl::StrCat(" I repeat: ", subject, " needs a human to look at it.",
                              " The details are in the Remediator dashboard.");
  }
  DraftedSpeech out;
  out.text = absl::StrCat(body, " ", QuestionText(lang));
  out.source = "template";
  out.estimated_duration = EstimateSpeechDuration(out.text);
  return out;
}

}  // namespace remediator::telephony
