#include "server/telephony/adapters/llm_speech_drafter.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "server/common/llm_text.h"
#include "server/common/logging.h"
#include "server/common/redact.h"
#include "server/common/status_macros.h"

namespace remediator::telephony {
namespace {

std::string Trim(const std::string& s) { return std::string(absl::StripAsciiWhitespace(s)); }

// The error text of a non-200 reply: `error` may be an object, a string, or absent (§5.1/5.2).
std::string ErrorText(const HttpResponse& r) {
  std::string detail;
  try {
    nlohmann::json j = nlohmann::json::parse(r.body);
    if (j.is_object() && j.contains("error")) {
      const nlohmann::json& e = j["error"];
      if (e.is_string()) detail = e.get<std::string>();
      if (e.is_object() && e.contains("message") && e["message"].is_string()) {
        detail = e["message"].get<std::string>();
      }
    } else if (j.is_object() && j.contains("message") && j["message"].is_string()) {
      detail = j["message"].get<std::string>();
    }
  } catch (const nlohmann::json::exception&) {
  }
  std::string out = absl::StrCat("llm: HTTP ", r.status);
  if (!detail.empty()) absl::StrAppend(&out, ": ", RedactSecrets(detail.substr(0, 200)));
  return out;
}

// Keeps at most `max_words` words, cut after the last full sentence when there is one.
std::string CapWords(const std::string& text, int max_words) {
  std::vector<std::string> words = absl::StrSplit(text, ' ', absl::SkipEmpty());
  if (static_cast<int>(words.size()) <= max_words) return text;
  words.resize(std::max(1, max_words));
  std::string cut = absl::StrJoin(words, " ");
  size_t end = cut.find_last_of(".!?");
  if (end != std::string::npos && end > cut.size() / 3) return cut.substr(0, end + 1);
  return cut + ".";
}

int CountWords(const std::string& text) {
  std::vector<std::string> words = absl::StrSplit(text, ' ', absl::SkipEmpty());
  return static_cast<int>(words.size());
}

}  // namespace

absl::StatusOr<std::string> LlmSpeechDrafter::Ask(const IncidentSummary& incident,
                                                  const std::string& language) {
  // Every field is sanitized before it reaches the model.
  auto field = [&](const char* name, const std::string& value) -> std::string {
    std::string clean = SanitizeForSpeech(value, language);
    return clean.empty() ? "" : absl::StrCat(name, ": ", clean, "\n");
  };
  std::string facts = absl::StrCat(
      field("incident id", incident.incident_id()), field("cluster", incident.cluster()),
      field("namespace", incident.namespace_()), field("workload kind", incident.workload_kind()),
      field("workload", incident.workload_name()), field("container", incident.container()),
      field("error class", incident.error_class()), field("severity", incident.severity()),
      field("summary", incident.summary()), field("what was tried", incident.what_was_tried()),
      field("why it failed", incident.why_it_failed()));
  const int body_words = std::max(20, options_.max_words - CountWords(QuestionText(language)));
  std::string system = absl::StrCat(
      "You write the text a phone robot reads aloud to the on-call engineer about a Kubernetes "
      "incident that automatic remediation could not fix. Write plain spoken sentences in ",
      language == "fr" ? "French" : "English", ", at most ", body_words,
      " words: who is calling (Remediator), what failed where, what was tried and why it did not "
      "work. No lists, no markup, no URLs, no secrets, no question: the question is added "
      "after your text.");
  nlohmann::json body = {
      {"model", options_.model},
      {"messages", nlohmann::json::array({{{"role", "system"}, {"content", system}},
                                          {{"role", "user"}, {"content", facts}}})},
      {"temperature", 0.2},
      {"top_p", 1},
      {"max_tokens", 1024},
      {"stream", false}};
  HttpRequest request;
  request.method = "POST";
  std::string base = options_.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  request.url = base + "/chat/completions";
  request.timeout = options_.timeout;
  request.headers.push_back({"Content-Type", "application/json"});
  if (!options_.api_key.empty()) {
    request.headers.push_back({"Authorization", "Bearer " + options_.api_key});
  }
  request.body = body.dump();
  ASSIGN_OR_RETURN(HttpResponse response, http_->Send(request));
  if (response.status != 200) return absl::UnavailableError(ErrorText(response));
  std::string content;
  try {
    nlohmann::json j = nlohmann::json::parse(response.body);
    const nlohmann::json& choices = j.at("choices");
    if (!choices.is_array() || choices.empty()) {
      return absl::UnavailableError("llm: the reply has no choices");
    }
    const nlohmann::json& message = choices[0].at("message");
    if (message.contains("content") && message["content"].is_string()) {
      content = message["content"].get<std::string>();
    }
  } catch (const nlohmann::json::exception&) {
    return absl::UnavailableError("llm: the reply is not a chat completion");
  }
  return content;
}

absl::StatusOr<DraftedSpeech> LlmSpeechDrafter::Draft(const IncidentSummary& incident,
                                                      const std::string& language) {
  // The template validates the request and is the answer whenever the model fails.
  ASSIGN_OR_RETURN(DraftedSpeech fallback, fallback_->Draft(incident, language));
  ASSIGN_OR_RETURN(std::string lang, NormalizeLanguage(language));
  auto fall_back = [&](const std::string& reason) {
    LogWarning("speech drafted from the template", {{"reason", reason}});
    fallback.llm_fallback_reason = reason;
    return fallback;
  };
  absl::StatusOr<std::string> content = Ask(incident, lang);
  if (!content.ok()) return fall_back(std::string(content.status().message()));
  std::string text = SanitizeForSpeech(StripThinkBlocks(*content), lang);
  const std::string question = QuestionText(lang);
  if (absl::EndsWith(text, question)) text = Trim(text.substr(0, text.size() - question.size()));
  if (text.empty()) return fall_back("llm: empty text");
  text = CapWords(text, std::max(20, options_.max_words - CountWords(question)));
  DraftedSpeech out;
  out.text = absl::StrCat(text, " ", question);
  out.source = "llm";
  out.estimated_duration = EstimateSpeechDuration(out.text);
  return out;
}

}  // namespace remediator::telephony
