#include "clients/cli/observation_reader.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace remediator::cli {
namespace {

using nlohmann::json;

absl::Status Invalid(const std::string& message) { return absl::InvalidArgumentError(message); }

absl::StatusOr<v1::Observation> FromKubernetesObject(const json& object) {
  v1::Observation observation;
  if (!object.is_object()) return Invalid("a Kubernetes object must be a JSON object");
  if (object.contains("type") && object.contains("object")) {
    observation.set_watch_event_json(object.dump());
    return observation;
  }
  const std::string kind = object.value("kind", "");
  if (kind == "Pod") {
    observation.set_pod_json(object.dump());
  } else if (kind == "Event") {
    observation.set_event_json(object.dump());
  } else {
    return Invalid(absl::StrCat("unsupported object kind \"", kind,
                                "\": expected a Pod, an Event or a watch event"));
  }
  return observation;
}

absl::StatusOr<v1::Observation> FromLogInput(const json& input) {
  v1::Observation observation;
  if (!input.is_object()) return Invalid("a log_line input must be a JSON object");
  if (input.contains("lines")) {
    if (!input["lines"].is_array()) return Invalid("\"lines\" must be a list of strings");
    v1::CriLogLines* cri = observation.mutable_cri_log();
    cri->set_log_file(input.value("log_file", ""));
    cri->set_namespace_(input.value("namespace", ""));
    cri->set_pod(input.value("pod", ""));
    cri->set_container(input.value("container", ""));
    for (const auto& line : input["lines"]) {
      if (!line.is_string()) return Invalid("\"lines\" must be a list of strings");
      cri->add_lines(line.get<std::string>());
    }
    return observation;
  }
  if (input.contains("body")) {
    v1::PodLogText* log = observation.mutable_pod_log();
    log->set_request(input.value("request", ""));
    log->set_namespace_(input.value("namespace", ""));
    log->set_pod(input.value("pod", ""));
    log->set_container(input.value("container", ""));
    log->set_previous(input.value("previous", false));
    if (!input["body"].is_string()) return Invalid("\"body\" must be a string");
    log->set_text(input["body"].get<std::string>());
    return observation;
  }
  if (input.contains("response")) {
    v1::LokiResult* loki = observation.mutable_loki();
    loki->set_query(input.value("loki_query", ""));
    loki->set_response_json(input["response"].dump());
    return observation;
  }
  return Invalid(
      "a log_line input needs \"lines\" (CRI log), \"body\" (pod log API text) or "
      "\"response\" (Loki query_range)");
}

}  // namespace

absl::StatusOr<v1::Observation> ParseObservationLine(const std::string& line, std::string* id) {
  json parsed = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return Invalid("not valid JSON");
  if (!parsed.is_object()) return Invalid("each line must be a JSON object");
  if (!parsed.contains("input")) return FromKubernetesObject(parsed);
  if (id != nullptr && parsed.contains("id") && parsed["id"].is_string()) {
    *id = parsed["id"].get<std::string>();
  }
  const std::string source = parsed.value("source", "");
  const json& input = parsed["input"];
  absl::StatusOr<v1::Observation> observation;
  if (source == "pod_status" || source == "pod" || source == "event" || source == "watch_event" ||
      source.empty()) {
    observation = FromKubernetesObject(input);
  } else if (source == "log_line" || source == "cri_log" || source == "pod_log" ||
             source == "loki") {
    observation = FromLogInput(input);
  } else {
    return Invalid(absl::StrCat("unknown source \"", source,
                                "\": use pod_status, event, watch_event or log_line"));
  }
  if (observation.ok()) observation->set_source(absl::StrCat("remediatorctl/", source));
  return observation;
}

absl::StatusOr<std::vector<InputLine>> ReadObservations(std::istream& in) {
  std::vector<InputLine> lines;
  std::string text;
  int number = 0;
  while (std::getline(in, text)) {
    ++number;
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    InputLine line;
    line.line_number = number;
    absl::StatusOr<v1::Observation> observation = ParseObservationLine(text, &line.id);
    if (!observation.ok()) {
      return Invalid(absl::StrCat("line ", number, ": ", observation.status().message()));
    }
    line.observation = *std::move(observation);
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace remediator::cli
