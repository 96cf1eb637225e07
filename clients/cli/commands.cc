#include "clients/cli/commands.h"

#include <fstream>
#include <functional>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "clients/cli/observation_reader.h"
#include "nlohmann/json.hpp"
#include "server/common/file_util.h"
#include "server/common/flags.h"
#include "server/common/time_util.h"
#include "server/remediator/core/enum_names.h"

namespace remediator::cli {
namespace {

constexpr int kReportBatch = 1000;

std::string Time(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "-";
  return FormatIso8601(FromProtoTime(t));
}

std::string Workload(const v1::WorkloadRef& w) {
  if (w.name().empty()) return w.pod().empty() ? "-" : "pod/" + w.pod();
  std::string kind = w.kind();
  for (char& c : kind) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return absl::StrCat(kind, "/", w.name(), w.container().empty() ? "" : "[" + w.container() + "]");
}

std::string DecisionName(telephony::v1::Decision d) {
  switch (d) {
    case telephony::v1::DECISION_YES:
      return "yes";
    case telephony::v1::DECISION_NO:
      return "no";
    case telephony::v1::DECISION_UNCLEAR:
      return "unclear";
    default:
      return "-";
  }
}

std::string OutcomeName(telephony::v1::CallOutcome o) {
  std::string name = telephony::v1::CallOutcome_Name(o);
  const std::string prefix = "CALL_OUTCOME_";
  if (name.rfind(prefix, 0) == 0) name = name.substr(prefix.size());
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

// Parses a command's own flags; prints the error or the help and returns the exit code to use,
// or -1 to go on.
int ParseCommandFlags(CliContext& ctx, FlagSet& flags, const std::string& command,
                      const std::vector<std::string>& args) {
  std::vector<const char*> argv = {command.c_str()};
  for (const auto& a : args) argv.push_back(a.c_str());
  absl::Status parsed = flags.Parse(static_cast<int>(argv.size()), argv.data());
  if (!parsed.ok()) {
    *ctx.err << "remediatorctl " << command << ": " << parsed.message() << "\n";
    return kExitUsage;
  }
  if (flags.help_requested()) {
    *ctx.out << flags.Usage();
    return kExitOk;
  }
  return -1;
}

// Maps a failed RPC to a message and an exit code: the caller's fault is 2, anything else 1.
int ReportRpcError(CliContext& ctx, const std::string& what, const grpc::Status& status) {
  std::string code = absl::StrCat(status.error_code());
  static const std::map<int, std::string> kNames = {
      {1, "CANCELLED"},           {2, "UNKNOWN"},
      {3, "INVALID_ARGUMENT"},    {4, "DEADLINE_EXCEEDED"},
      {5, "NOT_FOUND"},           {6, "ALREADY_EXISTS"},
      {7, "PERMISSION_DENIED"},   {8, "RESOURCE_EXHAUSTED"},
      {9, "FAILED_PRECONDITION"}, {10, "ABORTED"},
      {11, "OUT_OF_RANGE"},       {12, "UNIMPLEMENTED"},
      {13, "INTERNAL"},           {14, "UNAVAILABLE"},
      {15, "DATA_LOSS"},          {16, "UNAUTHENTICATED"}};
  if (auto it = kNames.find(status.error_code()); it != kNames.end()) code = it->second;
  *ctx.err << "remediatorctl: " << what << " failed: " << code << ": " << status.error_message()
           << "\n";
  return status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ? kExitUsage : kExitFailure;
}

void Prepare(CliContext& ctx, grpc::ClientContext& context, absl::Duration timeout) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  if (!ctx.token.empty()) context.AddMetadata("authorization", "Bearer " + ctx.token);
}

bool NeedRemediator(CliContext& ctx) {
  if (ctx.remediator != nullptr) return true;
  *ctx.err << "remediatorctl: this command needs the Remediator server: give --server HOST:PORT\n";
  return false;
}

bool NeedTelephony(CliContext& ctx) {
  if (ctx.telephony != nullptr) return true;
  *ctx.err << "remediatorctl: this command needs the Telephony server: give --telephony "
              "HOST:PORT\n";
  return false;
}

// ---- report ------------------------------------------------------------------------------

int Report(CliContext& ctx, const std::vector<std::string>& args) {
  std::string file;
  FlagSet flags("remediatorctl report",
                "Sends JSON Lines of observations (Kubernetes Pods, Events, watch events, or "
                "{\"source\", \"input\"} records) through ReportError and prints one JSON line "
                "per input line.");
  std::string cluster;
  flags.String("file", &file, "JSON Lines file to send, or - for standard input", 'f');
  flags.String("cluster", &cluster,
               "the cluster the observations come from (part of the incident fingerprint)");
  if (int rc = ParseCommandFlags(ctx, flags, "report", args); rc >= 0) return rc;
  if (file.empty()) {
    *ctx.err << "remediatorctl report: give -f FILE (or -f - for standard input)\n";
    return kExitUsage;
  }
  if (!NeedRemediator(ctx)) return kExitUsage;
  absl::StatusOr<std::vector<InputLine>> lines;
  if (file == "-") {
    lines = ReadObservations(*ctx.in);
  } else {
    std::ifstream in(file);
    if (!in) {
      *ctx.err << "remediatorctl report: cannot open " << file << "\n";
      return kExitUsage;
    }
    lines = ReadObservations(in);
  }
  if (!lines.ok()) {
    *ctx.err << "remediatorctl report: " << file << ": " << lines.status().message() << "\n";
    return kExitUsage;
  }
  const bool table = ctx.format_given && ctx.format == OutputFormat::kTable;
  std::vector<std::vector<std::string>> rows;
  for (size_t start = 0; start < lines->size(); start += kReportBatch) {
    const size_t end = std::min(lines->size(), start + kReportBatch);
    v1::ReportErrorRequest request;
    for (size_t i = start; i < end; ++i) {
      v1::Observation* observation = request.add_observations();
      *observation = (*lines)[i].observation;
      if (!cluster.empty()) observation->set_cluster(cluster);
    }
    v1::ReportErrorResponse response;
    grpc::ClientContext context;
    Prepare(ctx, context, ctx.timeout);
    grpc::Status status = ctx.remediator->ReportError(&context, request, &response);
    if (!status.ok()) {
      return ReportRpcError(ctx,
                            absl::StrCat("ReportError (lines ", (*lines)[start].line_number, "-",
                                         (*lines)[end - 1].line_number, ")"),
                            status);
    }
    for (const v1::Detection& d : response.detections()) {
      const InputLine& line = (*lines)[start + static_cast<size_t>(d.index())];
      if (table) {
        rows.push_back({std::to_string(line.line_number), line.id, ErrorClassName(d.error_class()),
                        d.workload().namespace_(), Workload(d.workload()),
                        d.fixable_by_manifest() ? "yes" : "no",
                        d.incident_id().empty() ? "-" : d.incident_id()});
        continue;
      }
      nlohmann::ordered_json out;
      out["line"] = line.line_number;
      if (!line.id.empty()) out["id"] = line.id;
      out["class"] = ErrorClassName(d.error_class());
      out["namespace"] = d.workload().namespace_();
      out["workload_kind"] = d.workload().kind();
      out["workload_name"] = d.workload().name();
      out["container"] = d.workload().container();
      out["pod"] = d.workload().pod();
      out["fixable_by_manifest"] = d.fixable_by_manifest();
      out["reason"] = d.reason();
      out["summary"] = d.summary();
      out["incident_id"] = d.incident_id();
      out["new_incident"] = d.new_incident();
      *ctx.out << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    }
  }
  if (table) {
    PrintTable(*ctx.out, {"LINE", "ID", "CLASS", "NAMESPACE", "WORKLOAD", "FIXABLE", "INCIDENT"},
               rows);
  }
  return kExitOk;
}

// ---- incidents ---------------------------------------------------------------------------

void PrintIncidents(CliContext& ctx, const std::vector<v1::Incident>& incidents) {
  if (ctx.format == OutputFormat::kJson) {
    for (const auto& incident : incidents) *ctx.out << ToJson(incident) << "\n";
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& i : incidents) {
    rows.push_back({i.id(), IncidentStateName(i.state()), ErrorClassName(i.error_class()),
                    i.workload().namespace_(), Workload(i.workload()), std::to_string(i.count()),
                    Time(i.first_seen()), Time(i.last_seen())});
  }
  PrintTable(*ctx.out,
             {"ID", "STATE", "CLASS", "NAMESPACE", "WORKLOAD", "COUNT", "FIRST SEEN", "LAST SEEN"},
             rows);
}

int Incidents(CliContext& ctx, const std::vector<std::string>& args) {
  std::string state, error_class, ns;
  int limit = 0;
  FlagSet flags("remediatorctl incidents", "Lists incidents, newest activity first.");
  flags.String("state", &state, "only this state (open, fixing, verified, pr_opened, ...)");
  flags.String("class", &error_class, "only this error class (oom_killed, image_pull, ...)");
  flags.String("namespace", &ns, "only this namespace", 'n');
  flags.Int("limit", &limit, "at most this many (0: all)");
  if (int rc = ParseCommandFlags(ctx, flags, "incidents", args); rc >= 0) return rc;
  if (!NeedRemediator(ctx)) return kExitUsage;
  v1::ListIncidentsRequest request;
  if (!state.empty()) {
    v1::IncidentState parsed;
    if (!ParseIncidentState(state, &parsed)) {
      *ctx.err << "remediatorctl incidents: unknown state \"" << state << "\"\n";
      return kExitUsage;
    }
    request.set_state(parsed);
  }
  if (!error_class.empty()) {
    v1::ErrorClass parsed;
    if (!ParseErrorClass(error_class, &parsed)) {
      *ctx.err << "remediatorctl incidents: unknown class \"" << error_class << "\"\n";
      return kExitUsage;
    }
    request.set_error_class(parsed);
  }
  request.set_namespace_(ns);
  request.set_page_size(200);
  std::vector<v1::Incident> incidents;
  do {
    v1::ListIncidentsResponse response;
    grpc::ClientContext context;
    Prepare(ctx, context, ctx.timeout);
    grpc::Status status = ctx.remediator->ListIncidents(&context, request, &response);
    if (!status.ok()) return ReportRpcError(ctx, "ListIncidents", status);
    for (const auto& i : response.incidents()) incidents.push_back(i);
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty() &&
           (limit <= 0 || static_cast<int>(incidents.size()) < limit));
  if (limit > 0 && static_cast<int>(incidents.size()) > limit) incidents.resize(limit);
  PrintIncidents(ctx, incidents);
  return kExitOk;
}

int IncidentCommand(CliContext& ctx, const std::vector<std::string>& args) {
  FlagSet flags("remediatorctl incident ID", "Shows one incident with its history.");
  if (int rc = ParseCommandFlags(ctx, flags, "incident", args); rc >= 0) return rc;
  if (flags.positional().size() != 1) {
    *ctx.err << "remediatorctl incident: give exactly one incident ID\n";
    return kExitUsage;
  }
  if (!NeedRemediator(ctx)) return kExitUsage;
  v1::GetIncidentRequest request;
  request.set_id(flags.positional()[0]);
  v1::Incident incident;
  grpc::ClientContext context;
  Prepare(ctx, context, ctx.timeout);
  grpc::Status status = ctx.remediator->GetIncident(&context, request, &incident);
  if (!status.ok()) return ReportRpcError(ctx, "GetIncident", status);
  if (ctx.format == OutputFormat::kJson) {
    *ctx.out << ToJson(incident) << "\n";
    return kExitOk;
  }
  PrintFields(*ctx.out, {{"id", incident.id()},
                         {"state", IncidentStateName(incident.state())},
                         {"class", ErrorClassName(incident.error_class())},
                         {"workload", absl::StrCat(incident.workload().namespace_(), "/",
                                                   Workload(incident.workload()))},
                         {"pod", incident.workload().pod()},
                         {"reason", incident.reason()},
                         {"summary", incident.summary()},
                         {"count", std::to_string(incident.count())},
                         {"first seen", Time(incident.first_seen())},
                         {"last seen", Time(incident.last_seen())},
                         {"fixable", incident.fixable_by_manifest() ? "yes" : "no"},
                         {"severity", incident.severity()},
                         {"fingerprint", incident.fingerprint()},
                         {"last fix", incident.last_fix_attempt_id()},
                         {"pull request", incident.pull_request_id()},
                         {"last call", incident.last_call_id()}});
  *ctx.out << "evidence:\n";
  for (const auto& line : incident.evidence()) *ctx.out << "  " << line << "\n";
  *ctx.out << "history:\n";
  for (const auto& t : incident.transitions()) {
    *ctx.out << "  " << Time(t.time()) << "  " << IncidentStateName(t.from()) << " -> "
             << IncidentStateName(t.to()) << "  " << t.note() << "\n";
  }
  return kExitOk;
}

// ---- fixes -------------------------------------------------------------------------------

void PrintAttempt(CliContext& ctx, const v1::FixAttempt& a) {
  if (ctx.format == OutputFormat::kJson) {
    *ctx.out << ToJson(a) << "\n";
    return;
  }
  PrintFields(
      *ctx.out,
      {{"attempt", a.id()},
       {"incident", a.incident_id()},
       {"status", FixStatusName(a.status())},
       {"strategy", a.strategy()},
       {"model", a.model()},
       {"explanation", a.explanation()},
       {"manifest", a.manifest_source()},
       {"guard", a.guard().allowed()
                     ? "allowed"
                     : absl::StrCat("refused: ", absl::StrJoin(a.guard().violations(), "; "))},
       {"dry run", a.dry_run_result()},
       {"rolled back", a.rolled_back() ? "yes: " + a.rollback_reason() : "no"},
       {"error", a.error()}});
  if (!a.diff().empty()) *ctx.out << "diff:\n" << a.diff() << "\n";
  for (const auto& e : a.verification_evidence()) *ctx.out << "verify: " << e << "\n";
}

int Fix(CliContext& ctx, const std::vector<std::string>& args) {
  bool suggest = false;
  std::string strategy;
  FlagSet flags("remediatorctl fix INCIDENT", "Attempts a fix for an incident (AttemptFix).");
  flags.Bool("suggest", &suggest, "propose and check the fix, apply nothing");
  flags.String("strategy", &strategy, "only this strategy: playbook or llm");
  if (int rc = ParseCommandFlags(ctx, flags, "fix", args); rc >= 0) return rc;
  if (flags.positional().size() != 1) {
    *ctx.err << "remediatorctl fix: give exactly one incident ID\n";
    return kExitUsage;
  }
  if (!NeedRemediator(ctx)) return kExitUsage;
  v1::AttemptFixRequest request;
  request.set_incident_id(flags.positional()[0]);
  if (suggest) request.set_mode(v1::FIX_MODE_SUGGEST);
  request.set_strategy(strategy);
  v1::FixAttempt attempt;
  grpc::ClientContext context;
  Prepare(ctx, context, ctx.call_timeout);
  grpc::Status status = ctx.remediator->AttemptFix(&context, request, &attempt);
  if (!status.ok()) return ReportRpcError(ctx, "AttemptFix", status);
  PrintAttempt(ctx, attempt);
  return kExitOk;
}

int Fixes(CliContext& ctx, const std::vector<std::string>& args) {
  FlagSet flags("remediatorctl fixes INCIDENT", "Lists the fix attempts of an incident.");
  if (int rc = ParseCommandFlags(ctx, flags, "fixes", args); rc >= 0) return rc;
  if (flags.positional().size() != 1) {
    *ctx.err << "remediatorctl fixes: give exactly one incident ID\n";
    return kExitUsage;
  }
  if (!NeedRemediator(ctx)) return kExitUsage;
  v1::ListFixAttemptsRequest request;
  request.set_incident_id(flags.positional()[0]);
  v1::ListFixAttemptsResponse response;
  grpc::ClientContext context;
  Prepare(ctx, context, ctx.timeout);
  grpc::Status status = ctx.remediator->ListFixAttempts(&context, request, &response);
  if (!status.ok()) return ReportRpcError(ctx, "ListFixAttempts", status);
  if (ctx.format == OutputFormat::kJson) {
    for (const auto& a : response.attempts()) *ctx.out << ToJson(a) << "\n";
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& a : response.attempts()) {
    rows.push_back(
        {a.id(), FixStatusName(a.status()), a.strategy(), Time(a.started()), a.explanation()});
  }
  PrintTable(*ctx.out, {"ATTEMPT", "STATUS", "STRATEGY", "STARTED", "EXPLANATION"}, rows);
  return kExitOk;
}

// ---- pull requests -----------------------------------------------------------------------

void PrintPullRequests(CliContext& ctx, const std::vector<v1::PullRequest>& prs) {
  if (ctx.format == OutputFormat::kJson) {
    for (const auto& pr : prs) *ctx.out << ToJson(pr) << "\n";
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& pr : prs) {
    rows.push_back({pr.id(), pr.incident_id(), pr.forge(), pr.state(), pr.branch(),
                    pr.commit().substr(0, 12), pr.url(), pr.title()});
  }
  PrintTable(*ctx.out, {"ID", "INCIDENT", "FORGE", "STATE", "BRANCH", "COMMIT", "URL", "TITLE"},
             rows);
}

int OpenPr(CliContext& ctx, const std::vector<std::string>& args) {
  std::string attempt;
  FlagSet flags("remediatorctl open-pr INCIDENT",
                "Opens (or returns the already opened) pull request for a verified fix.");
  flags.String("attempt", &attempt, "a specific fix attempt instead of the latest verified one");
  if (int rc = ParseCommandFlags(ctx, flags, "open-pr", args); rc >= 0) return rc;
  if (flags.positional().size() > 1 || (flags.positional().empty() && attempt.empty())) {
    *ctx.err << "remediatorctl open-pr: give an incident ID or --attempt ID\n";
    return kExitUsage;
  }
  if (!NeedRemediator(ctx)) return kExitUsage;
  v1::OpenPullRequestRequest request;
  if (!flags.positional().empty()) request.set_incident_id(flags.positional()[0]);
  request.set_fix_attempt_id(attempt);
  v1::PullRequest pr;
  grpc::ClientContext context;
  Prepare(ctx, context, ctx.call_timeout);
  grpc::Status status = ctx.remediator->OpenPullRequest(&context, request, &pr);
  if (!status.ok()) return ReportRpcError(ctx, "OpenPullRequest", status);
  PrintPullRequests(ctx, {pr});
  return kExitOk;
}

int Prs(CliContext& ctx, const std::vector<std::string>& args) {
  std::string incident;
  FlagSet flags("remediatorctl prs", "Lists pull requests, newest first.");
  flags.String("incident", &incident, "only this incident's");
  if (int rc = ParseCommandFlags(ctx, flags, "prs", args); rc >= 0) return rc;
  if (!NeedRemediator(ctx)) return kExitUsage;
  v1::ListPullRequestsRequest request;
  request.set_incident_id(incident);
  request.set_page_size(200);
  std::vector<v1::PullRequest> prs;
  do {
    v1::ListPullRequestsResponse response;
    grpc::ClientContext context;
    Prepare(ctx, context, ctx.timeout);
    grpc::Status status = ctx.remediator->ListPullRequests(&context, request, &response);
    if (!status.ok()) return ReportRpcError(ctx, "ListPullRequests", status);
    for (const auto& pr : response.pull_requests()) prs.push_back(pr);
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  PrintPullRequests(ctx, prs);
  return kExitOk;
}

int Pr(CliContext& ctx, const std::vector<std::string>& args) {
  FlagSet flags("remediatorctl pr ID", "Shows one pull request with its body.");
  if (int rc = ParseCommandFlags(ctx, flags, "pr", args); rc >= 0) return rc;
  if (flags.positional().size() != 1) {
    *ctx.err << "remediatorctl pr: give exactly one pull request ID\n";
    return kExitUsage;
  }
  if (!NeedRemediator(ctx)) return kExitUsage;
  v1::GetPullRequestRequest request;
  request.set_id(flags.positional()[0]);
  v1::PullRequest pr;
  grpc::ClientContext context;
  Prepare(ctx, context, ctx.timeout);
  grpc::Status status = ctx.remediator->GetPullRequest(&context, request, &pr);
  if (!status.ok()) return ReportRpcError(ctx, "GetPullRequest", status);
  if (ctx.format == OutputFormat::kJson) {
    *ctx.out << ToJson(pr) << "\n";
    return kExitOk;
  }
  PrintFields(*ctx.out, {{"id", pr.id()},
                         {"incident", pr.incident_id()},
                         {"forge", pr.forge()},
                         {"url", pr.url()},
                         {"branch", absl::StrCat(pr.branch(), " -> ", pr.base_branch())},
                         {"commit", pr.commit()},
                         {"state", pr.state()},
                         {"created", Time(pr.created())},
                         {"title", pr.title()}});
  *ctx.out << "\n" << pr.body() << "\n";
  return kExitOk;
}

// ---- calls -------------------------------------------------------------------------------

void PrintCalls(CliContext& ctx, const std::vector<telephony::v1::CallRecord>& calls) {
  if (ctx.format == OutputFormat::kJson) {
    for (const auto& call : calls) *ctx.out << ToJson(call) << "\n";
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& c : calls) {
    std::string speech = c.speech().size() > 60 ? c.speech().substr(0, 57) + "..." : c.speech();
    rows.push_back({Time(c.call_time()), c.number(), c.can_intervene() ? "true" : "false",
                    OutcomeName(c.outcome()), DecisionName(c.decision()),
                    c.incident_id().empty() ? "-" : c.incident_id(), c.call_id(), c.transcript(),
                    speech});
  }
  PrintTable(*ctx.out,
             {"CALL TIME", "NUMBER", "CAN INTERVENE", "OUTCOME", "ANSWER", "INCIDENT", "CALL ID",
              "TRANSCRIPT", "SPEECH"},
             rows);
}

int Call(CliContext& ctx, const std::vector<std::string>& args) {
  std::string number, incident, message, language, key;
  FlagSet flags("remediatorctl call",
                "Phones someone: explains an incident (or speaks a message), asks whether they "
                "can intervene, and records the answer. Goes to the Remediator, or straight to "
                "the Telephony server when --telephony is given.");
  flags.String("number", &number, "E.164 number or SIP URI to call");
  flags.String("incident", &incident, "incident to explain");
  flags.String("message", &message, "text to speak instead of an incident explanation");
  flags.String("language", &language, "en or fr");
  flags.String("idempotency-key", &key, "retrying with the same key never rings twice");
  if (int rc = ParseCommandFlags(ctx, flags, "call", args); rc >= 0) return rc;
  if (incident.empty() && message.empty()) {
    *ctx.err << "remediatorctl call: give --incident ID or --message TEXT\n";
    return kExitUsage;
  }
  telephony::v1::CallRecord record;
  grpc::ClientContext context;
  Prepare(ctx, context, ctx.call_timeout);
  grpc::Status status;
  if (ctx.telephony != nullptr) {
    if (number.empty()) {
      *ctx.err << "remediatorctl call: give --number (the Telephony server has no on-call "
                  "policy)\n";
      return kExitUsage;
    }
    telephony::v1::PlaceCallRequest request;
    request.set_number(number);
    request.set_message(message);
    request.set_language(language);
    request.set_idempotency_key(key);
    request.mutable_incident()->set_incident_id(incident);
    status = ctx.telephony->PlaceCall(&context, request, &record);
  } else {
    if (!NeedRemediator(ctx)) return kExitUsage;
    v1::PlaceCallRequest request;
    request.set_number(number);
    request.set_incident_id(incident);
    request.set_message(message);
    request.set_language(language);
    request.set_idempotency_key(key);
    status = ctx.remediator->PlaceCall(&context, request, &record);
  }
  if (!status.ok()) return ReportRpcError(ctx, "PlaceCall", status);
  PrintCalls(ctx, {record});
  return kExitOk;
}

int Calls(CliContext& ctx, const std::vector<std::string>& args) {
  std::string incident, number;
  FlagSet flags("remediatorctl calls", "Lists recorded calls, newest first.");
  flags.String("incident", &incident, "only this incident's calls");
  flags.String("number", &number, "only calls to this number");
  if (int rc = ParseCommandFlags(ctx, flags, "calls", args); rc >= 0) return rc;
  telephony::v1::ListCallsRequest request;
  request.set_incident_id(incident);
  request.set_number(number);
  request.set_page_size(200);
  if (ctx.telephony == nullptr && !NeedRemediator(ctx)) return kExitUsage;
  std::vector<telephony::v1::CallRecord> calls;
  do {
    telephony::v1::ListCallsResponse response;
    grpc::ClientContext context;
    Prepare(ctx, context, ctx.timeout);
    grpc::Status status = ctx.telephony != nullptr
                              ? ctx.telephony->ListCalls(&context, request, &response)
                              : ctx.remediator->ListCalls(&context, request, &response);
    if (!status.ok()) return ReportRpcError(ctx, "ListCalls", status);
    for (const auto& c : response.calls()) calls.push_back(c);
    request.set_page_token(response.next_page_token());
  } while (!request.page_token().empty());
  PrintCalls(ctx, calls);
  return kExitOk;
}

int CallLog(CliContext& ctx, const std::vector<std::string>& args) {
  std::string output;
  FlagSet flags("remediatorctl call-log", "Downloads the call log CSV from the Telephony server.");
  flags.String("output", &output, "write to this file instead of standard output", 'O');
  if (int rc = ParseCommandFlags(ctx, flags, "call-log", args); rc >= 0) return rc;
  if (!NeedTelephony(ctx)) return kExitUsage;
  telephony::v1::GetCallLogCsvResponse response;
  grpc::ClientContext context;
  Prepare(ctx, context, ctx.timeout);
  grpc::Status status =
      ctx.telephony->GetCallLogCsv(&context, telephony::v1::GetCallLogCsvRequest(), &response);
  if (!status.ok()) return ReportRpcError(ctx, "GetCallLogCsv", status);
  if (output.empty()) {
    *ctx.out << response.csv();
    return kExitOk;
  }
  absl::Status written = WriteFileAtomically(output, response.csv());
  if (!written.ok()) {
    *ctx.err << "remediatorctl call-log: " << written.message() << "\n";
    return kExitFailure;
  }
  return kExitOk;
}

// ---- speech ------------------------------------------------------------------------------

int Draft(CliContext& ctx, const std::vector<std::string>& args) {
  telephony::v1::DraftSpeechRequest request;
  auto* i = request.mutable_incident();
  std::string id, cluster, ns, kind, name, container, error_class, summary, tried, why, language;
  FlagSet flags("remediatorctl draft", "Drafts the spoken explanation of an incident.");
  flags.String("incident", &id, "incident id");
  flags.String("cluster", &cluster, "cluster name");
  flags.String("namespace", &ns, "namespace", 'n');
  flags.String("kind", &kind, "workload kind, e.g. Deployment");
  flags.String("workload", &name, "workload name");
  flags.String("container", &container, "container name");
  flags.String("class", &error_class, "error class, e.g. oom_killed");
  flags.String("summary", &summary, "one sentence on what failed");
  flags.String("tried", &tried, "what was tried");
  flags.String("why", &why, "why it did not work");
  flags.String("language", &language, "en or fr");
  if (int rc = ParseCommandFlags(ctx, flags, "draft", args); rc >= 0) return rc;
  if (!NeedTelephony(ctx)) return kExitUsage;
  i->set_incident_id(id);
  i->set_cluster(cluster);
  i->set_namespace_(ns);
  i->set_workload_kind(kind);
  i->set_workload_name(name);
  i->set_container(container);
  i->set_error_class(error_class);
  i->set_summary(summary);
  i->set_what_was_tried(tried);
  i->set_why_it_failed(why);
  request.set_language(language);
  telephony::v1::DraftSpeechResponse response;
  grpc::ClientContext context;
  Prepare(ctx, context, ctx.call_timeout);
  grpc::Status status = ctx.telephony->DraftSpeech(&context, request, &response);
  if (!status.ok()) return ReportRpcError(ctx, "DraftSpeech", status);
  if (ctx.format == OutputFormat::kJson) {
    *ctx.out << ToJson(response) << "\n";
  } else {
    *ctx.out << response.text() << "\n";
  }
  return kExitOk;
}

int Tts(CliContext& ctx, const std::vector<std::string>& args) {
  std::string text, output, language, voice;
  int rate = 0;
  FlagSet flags("remediatorctl tts", "Synthesizes speech to a WAV file.");
  flags.String("text", &text, "text to speak");
  flags.String("output", &output, "WAV file to write", 'o');
  flags.String("language", &language, "en or fr");
  flags.String("voice", &voice, "engine voice name");
  flags.Int("rate", &rate, "sample rate in Hz (0: the engine's)");
  if (int rc = ParseCommandFlags(ctx, flags, "tts", args); rc >= 0) return rc;
  if (text.empty() || output.empty()) {
    *ctx.err << "remediatorctl tts: give --text TEXT and -o FILE.wav\n";
    return kExitUsage;
  }
  if (!NeedTelephony(ctx)) return kExitUsage;
  telephony::v1::SynthesizeRequest request;
  request.set_text(text);
  request.set_language(language);
  request.set_voice(voice);
  request.set_sample_rate_hz(rate);
  telephony::v1::SynthesizeResponse response;
  grpc::ClientContext context;
  Prepare(ctx, context, ctx.call_timeout);
  grpc::Status status = ctx.telephony->Synthesize(&context, request, &response);
  if (!status.ok()) return ReportRpcError(ctx, "Synthesize", status);
  absl::Status written = WriteFileAtomically(output, response.wav());
  if (!written.ok()) {
    *ctx.err << "remediatorctl tts: " << written.message() << "\n";
    return kExitFailure;
  }
  *ctx.out << "wrote " << output << " (" << response.wav().size() << " bytes, "
           << response.sample_rate_hz() << " Hz, "
           << absl::FormatDuration(FromProtoDuration(response.duration())) << ", "
           << response.engine() << ")\n";
  return kExitOk;
}

int Stt(CliContext& ctx, const std::vector<std::string>& args) {
  std::string file, language;
  FlagSet flags("remediatorctl stt", "Transcribes a WAV file and decides yes / no / unclear.");
  flags.String("file", &file, "WAV file", 'f');
  flags.String("language", &language, "en or fr");
  if (int rc = ParseCommandFlags(ctx, flags, "stt", args); rc >= 0) return rc;
  if (file.empty()) {
    *ctx.err << "remediatorctl stt: give -f FILE.wav\n";
    return kExitUsage;
  }
  if (!NeedTelephony(ctx)) return kExitUsage;
  absl::StatusOr<std::string> audio = ReadFile(file);
  if (!audio.ok()) {
    *ctx.err << "remediatorctl stt: " << audio.status().message() << "\n";
    return kExitUsage;
  }
  telephony::v1::TranscribeRequest request;
  request.set_audio(*audio);
  request.set_language(language);
  telephony::v1::TranscribeResponse response;
  grpc::ClientContext context;
  Prepare(ctx, context, ctx.call_timeout);
  grpc::Status status = ctx.telephony->Transcribe(&context, request, &response);
  if (!status.ok()) return ReportRpcError(ctx, "Transcribe", status);
  if (ctx.format == OutputFormat::kJson) {
    *ctx.out << ToJson(response) << "\n";
  } else {
    PrintFields(*ctx.out, {{"transcript", response.transcript()},
                           {"decision", DecisionName(response.decision())},
                           {"confidence", absl::StrCat(response.confidence())},
                           {"engine", response.engine()}});
  }
  return kExitOk;
}

using Command = std::function<int(CliContext&, const std::vector<std::string>&)>;

const std::vector<std::pair<std::string, std::pair<Command, std::string>>>& Commands() {
  static const auto* commands =
      new std::vector<std::pair<std::string, std::pair<Command, std::string>>>{
          {"report",
           {Report, "report -f FILE|-        send JSON Lines observations (ReportError)"}},
          {"incidents", {Incidents, "incidents [--state S] [--class C] [-n NS]   list incidents"}},
          {"incident", {IncidentCommand, "incident ID             show one incident"}},
          {"fix", {Fix, "fix ID [--suggest]      attempt a fix (AttemptFix)"}},
          {"fixes", {Fixes, "fixes ID                list an incident's fix attempts"}},
          {"open-pr", {OpenPr, "open-pr ID              open the PR of a verified fix"}},
          {"prs", {Prs, "prs [--incident ID]     list pull requests"}},
          {"pr", {Pr, "pr ID                   show one pull request"}},
          {"call", {Call, "call --number N (--incident ID | --message TEXT)   place a call"}},
          {"calls", {Calls, "calls [--incident ID]   list calls"}},
          {"call-log", {CallLog, "call-log [-O FILE]      download the calls CSV (telephony)"}},
          {"draft", {Draft, "draft --workload W ...  draft the spoken explanation (telephony)"}},
          {"tts", {Tts, "tts --text T -o F.wav   synthesize speech (telephony)"}},
          {"stt", {Stt, "stt -f F.wav            transcribe and decide yes/no (telephony)"}},
      };
  return *commands;
}

}  // namespace

std::string CommandHelp() {
  std::string help = "Commands (COMMAND --help for each one's flags):\n";
  for (const auto& [name, entry] : Commands()) help += "  " + entry.second + "\n";
  return help;
}

int RunCommand(CliContext& ctx, const std::string& command, const std::vector<std::string>& args) {
  for (const auto& [name, entry] : Commands()) {
    if (name == command) return entry.first(ctx, args);
  }
  *ctx.err << "remediatorctl: unknown command \"" << command << "\"\n" << CommandHelp();
  return kExitUsage;
}

}  // namespace remediator::cli
