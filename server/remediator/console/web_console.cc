#include "server/remediator/console/web_console.h"

#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <functional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "server/common/file_util.h"
#include "server/common/time_util.h"
#include "server/metrics/metrics_server.h"
#include "server/remediator/core/enum_names.h"

namespace remediator::console {
namespace {

constexpr char kCookie[] = "remediator_token";
constexpr char kMethod[] = "web console";

std::string Html(const std::string& text) {
  return absl::StrReplaceAll(
      text, {{"&", "&amp;"}, {"<", "&lt;"}, {">", "&gt;"}, {"\"", "&quot;"}, {"'", "&#39;"}});
}

std::string Url(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.') {
      out += static_cast<char>(c);
    } else {
      absl::StrAppend(&out, "%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

std::string Csv(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  return absl::StrCat("\"", absl::StrReplaceAll(text, {{"\"", "\"\""}}), "\"");
}

std::string Time(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", FromProtoTime(t), absl::UTCTimeZone());
}

std::string CallOutcome(const telephony::v1::CallRecord& c) {
  return absl::AsciiStrToLower(
      absl::StripPrefix(telephony::v1::CallOutcome_Name(c.outcome()), "CALL_OUTCOME_"));
}

std::string Decision(const telephony::v1::CallRecord& c) {
  return absl::AsciiStrToLower(
      absl::StripPrefix(telephony::v1::Decision_Name(c.decision()), "DECISION_"));
}

std::string Workload(const v1::WorkloadRef& w) {
  return absl::StrCat(w.namespace_(), "/", absl::AsciiStrToLower(w.kind()), "/", w.name());
}

// Call ids become file names: only [A-Za-z0-9_-], at most 128 bytes.
bool SafeId(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

const char kStyle[] = R"(
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2329;background:#f6f7f9}
header{background:#1d2b3a;color:#fff;padding:10px 20px;display:flex;gap:20px;align-items:center}
header a{color:#cfe3ff;text-decoration:none;font-weight:600}
header .brand{font-size:16px;color:#fff}
main{padding:16px 20px;max-width:1200px}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border-bottom:1px solid #e2e5e9;padding:6px 8px;text-align:left;vertical-align:top}
th{background:#eef1f4;font-weight:600}
pre{background:#0f1720;color:#e6edf3;padding:10px;overflow:auto;border-radius:4px}
.diff .add{color:#7ee787}.diff .del{color:#ff8e8e}
.tag{display:inline-block;padding:1px 7px;border-radius:9px;background:#e3e8ef;font-size:12px}
.ok{background:#d3f5dd}.bad{background:#ffdcdc}.warn{background:#fff1c2}
section{background:#fff;border:1px solid #e2e5e9;border-radius:4px;padding:10px 14px;margin:12px 0;overflow-x:auto}
form.filters{display:flex;gap:10px;align-items:end;margin-bottom:12px}
label{display:flex;flex-direction:column;font-size:12px;color:#55606b}
audio{height:32px;width:260px}
)";

std::string Page(const std::string& title, const std::string& body) {
  return absl::StrCat(
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>", Html(title),
      " - Remediator</title><link rel=\"icon\" href=\"data:,\"><style>", kStyle,
      "</style></head><body><header><span class=\"brand\">Remediator</span>"
      "<a href=\"/\">Incidents</a><a href=\"/calls\">Calls</a>"
      "<a href=\"/incidents.csv\">incidents.csv</a><a href=\"/calls.csv\">calls.csv</a>"
      "</header><main><h1>",
      Html(title), "</h1>", body, "</main></body></html>");
}

std::string Select(const std::string& name, const std::string& current,
                   const std::vector<std::string>& values) {
  std::string out = absl::StrCat("<select name=\"", name, "\"><option value=\"\">any</option>");
  for (const std::string& v : values) {
    absl::StrAppend(&out, "<option", v == current ? " selected" : "", ">", Html(v), "</option>");
  }
  return out + "</select>";
}

std::string DiffHtml(const std::string& diff) {
  std::string out = "<pre class=\"diff\">";
  size_t start = 0;
  while (start < diff.size()) {
    size_t end = diff.find('\n', start);
    if (end == std::string::npos) end = diff.size();
    std::string line = diff.substr(start, end - start);
    const char* cls = !line.empty() && line[0] == '+' && line.rfind("+++", 0) != 0   ? "add"
                      : !line.empty() && line[0] == '-' && line.rfind("---", 0) != 0 ? "del"
                                                                                     : "";
    absl::StrAppend(&out, "<span class=\"", cls, "\">", Html(line), "</span>\n");
    start = end + 1;
  }
  return out + "</pre>";
}

}  // namespace

WebConsole::WebConsole(const WebConsoleOptions& options, IncidentStore& store, Phone* phone,
                       const RpcGuard& guard)
    : options_(options), store_(store), phone_(phone), guard_(guard) {}

absl::StatusOr<std::unique_ptr<WebConsole>> WebConsole::Start(const WebConsoleOptions& options,
                                                              IncidentStore& store, Phone* phone,
                                                              const RpcGuard& guard) {
  std::string host;
  int port = 0;
  if (absl::Status s = metrics::SplitHostPort(options.listen, &host, &port); !s.ok()) return s;
  auto console = std::unique_ptr<WebConsole>(new WebConsole(options, store, phone, guard));
  console->http_ = std::make_unique<httplib::Server>();
  console->Route();
  int bound = port == 0 ? console->http_->bind_to_any_port(host)
                        : (console->http_->bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.listen, " for the web console"));
  }
  console->address_ = absl::StrCat(options.listen.substr(0, options.listen.rfind(':')), ":", bound);
  console->thread_ = std::thread([c = console.get()] {
    c->http_->listen_after_bind();
    c->done_.store(true);
  });
  return console;
}

WebConsole::~WebConsole() {
  if (!thread_.joinable()) return;
  while (!done_.load()) {
    http_->stop();
    if (!done_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  thread_.join();
}

void WebConsole::Route() {
  auto page = [this](void (WebConsole::*handler)(const httplib::Request&, httplib::Response&),
                     bool html) {
    return [this, handler, html](const httplib::Request& req, httplib::Response& res) {
      res.set_header("Content-Security-Policy",
                     "default-src 'none'; style-src 'unsafe-inline'; media-src 'self'; "
                     "img-src data:; form-action 'self'");
      res.set_header("X-Content-Type-Options", "nosniff");
      res.set_header("Cache-Control", "no-store");
      if (Allowed(req, res, html)) (this->*handler)(req, res);
    };
  };
  http_->Get("/", page(&WebConsole::IncidentsPage, true));
  http_->Get(R"(/incidents/([A-Za-z0-9_.\-]{1,128}))", page(&WebConsole::IncidentPage, true));
  http_->Get("/calls", page(&WebConsole::CallsPage, true));
  http_->Get("/incidents.csv", page(&WebConsole::IncidentsCsv, false));
  http_->Get("/calls.csv", page(&WebConsole::CallsCsv, false));
  http_->Get(R"(/audio/([A-Za-z0-9_\-]{1,128})/(prompt|answer)\.wav)",
             page(&WebConsole::Audio, false));
  http_->Get("/login",
             [this](const httplib::Request& req, httplib::Response& res) { Login(req, res); });
  http_->Post("/login",
              [this](const httplib::Request& req, httplib::Response& res) { Login(req, res); });
}

bool WebConsole::Allowed(const httplib::Request& req, httplib::Response& res, bool html) {
  std::string header;
  if (req.has_header("Authorization")) {
    header = req.get_header_value("Authorization");
  } else {
    // The cookie set by /login.
    std::string cookies = req.get_header_value("Cookie");
    std::string key = absl::StrCat(kCookie, "=");
    size_t at = cookies.find(key);
    if (at != std::string::npos) {
      size_t end = cookies.find(';', at);
      header =
          absl::StrCat("Bearer ", cookies.substr(at + key.size(), end == std::string::npos
                                                                      ? std::string::npos
                                                                      : end - at - key.size()));
    }
  }
  grpc::Status status = guard_.AuthorizeHeader(header.empty() ? nullptr : &header, kMethod,
                                               Access::kRead, req.remote_addr);
  if (status.ok()) return true;
  if (html && status.error_code() == grpc::StatusCode::UNAUTHENTICATED) {
    res.status = 303;
    res.set_header("Location", "/login");
    return false;
  }
  res.status = status.error_code() == grpc::StatusCode::PERMISSION_DENIED ? 403 : 401;
  res.set_content(status.error_message() + "\n", "text/plain; charset=utf-8");
  return false;
}

void WebConsole::Login(const httplib::Request& req, httplib::Response& res) {
  std::string message;
  if (req.method == "POST") {
    std::string token = req.get_param_value("token");
    std::string header = absl::StrCat("Bearer ", token);
    grpc::Status status = guard_.AuthorizeHeader(&header, kMethod, Access::kRead, req.remote_addr);
    if (status.ok() && token.find_first_of(";\r\n ") == std::string::npos) {
      res.status = 303;
      res.set_header("Set-Cookie",
                     absl::StrCat(kCookie, "=", token, "; Path=/; HttpOnly; SameSite=Strict"));
      res.set_header("Location", "/");
      return;
    }
    // 200 with the reason: the form is shown again (a 401 page would be an error in the
    // browser's console).
    message = absl::StrCat("<p class=\"tag bad\">", Html(status.error_message()), "</p>");
  }
  res.set_content(
      Page("Sign in", message + "<form method=\"post\" action=\"/login\"><label>Token"
                                "<input type=\"password\" name=\"token\" autofocus>"
                                "</label><button type=\"submit\">Sign in</button></form>"),
      "text/html; charset=utf-8");
}

void WebConsole::IncidentsPage(const httplib::Request& req, httplib::Response& res) {
  IncidentFilter filter;
  filter.page_size = 500;
  std::string state = req.get_param_value("state"), error_class = req.get_param_value("class");
  filter.namespace_name = req.get_param_value("namespace").substr(0, 256);
  if (!state.empty()) ParseIncidentState(state, &filter.state);
  if (!error_class.empty()) ParseErrorClass(error_class, &filter.error_class);
  absl::StatusOr<remediator::IncidentPage> page = store_.ListIncidents(filter);
  if (!page.ok()) {
    res.status = 500;
    res.set_content(Page("Incidents", Html(page.status().ToString())), "text/html; charset=utf-8");
    return;
  }
  std::vector<std::string> states, classes;
  for (int i = 1; i <= v1::IncidentState_MAX; ++i) {
    states.push_back(IncidentStateName(static_cast<v1::IncidentState>(i)));
  }
  for (int i = 2; i <= v1::ErrorClass_MAX; ++i) {
    classes.push_back(ErrorClassName(static_cast<v1::ErrorClass>(i)));
  }
  std::string body = absl::StrCat(
      "<form class=\"filters\" method=\"get\" action=\"/\"><label>State",
      Select("state", state, states), "</label><label>Class", Select("class", error_class, classes),
      "</label><label>Namespace<input name=\"namespace\" value=\"", Html(filter.namespace_name),
      "\"></label><button type=\"submit\">Filter</button></form>");
  absl::StrAppend(&body,
                  "<table id=\"incidents\"><thead><tr><th>Incident</th><th>Workload</th>"
                  "<th>Class</th><th>State</th><th>Count</th><th>Last seen</th>"
                  "<th>Summary</th></tr></thead><tbody>");
  for (const v1::Incident& i : page->incidents) {
    absl::StrAppend(&body, "<tr><td><a href=\"/incidents/", Url(i.id()), "\">", Html(i.id()),
                    "</a></td><td>", Html(Workload(i.workload())), "</td><td>",
                    Html(ErrorClassName(i.error_class())), "</td><td><span class=\"tag\">",
                    Html(IncidentStateName(i.state())), "</span></td><td>", i.count(), "</td><td>",
                    Html(Time(i.last_seen())), "</td><td>", Html(i.summary()), "</td></tr>");
  }
  absl::StrAppend(&body, "</tbody></table><p>", page->incidents.size(), " incidents</p>");
  res.set_content(Page("Incidents", body), "text/html; charset=utf-8");
}

absl::StatusOr<std::vector<telephony::v1::CallRecord>> WebConsole::Calls(
    const std::string& incident_id) {
  std::vector<telephony::v1::CallRecord> calls;
  if (phone_ != nullptr) {
    telephony::v1::ListCallsRequest request;
    request.set_incident_id(incident_id);
    request.set_page_size(500);
    absl::StatusOr<telephony::v1::ListCallsResponse> listed = phone_->ListCalls(request);
    if (!listed.ok()) return listed.status();
    calls.assign(listed->calls().begin(), listed->calls().end());
    return calls;
  }
  CallFilter filter;
  filter.incident_id = incident_id;
  filter.page_size = 500;
  absl::StatusOr<CallPage> page = store_.ListCalls(filter);
  if (!page.ok()) return page.status();
  return page->calls;
}

bool WebConsole::HasAudio(const std::string& call_id, const char* kind) const {
  if (options_.audio_dir.empty() || !SafeId(call_id)) return false;
  std::error_code ec;
  return std::filesystem::is_regular_file(
      absl::StrCat(options_.audio_dir, "/", call_id, "-", kind, ".wav"), ec);
}

namespace {

std::string CallsTable(const std::vector<telephony::v1::CallRecord>& calls,
                       const std::function<bool(const std::string&, const char*)>& has_audio) {
  std::string body =
      "<table id=\"calls\"><thead><tr><th>Time</th><th>Number</th><th>Incident</th>"
      "<th>Outcome</th><th>Transcript</th><th>Decision</th><th>Prompt</th><th>Answer</th>"
      "</tr></thead><tbody>";
  for (const auto& c : calls) {
    absl::StrAppend(&body, "<tr><td>", Html(Time(c.call_time())), "</td><td>", Html(c.number()),
                    "</td><td><a href=\"/incidents/", Url(c.incident_id()), "\">",
                    Html(c.incident_id()), "</a></td><td>", Html(CallOutcome(c)), "</td><td>",
                    Html(c.transcript()), "</td><td><span class=\"tag ",
                    c.can_intervene() ? "ok" : "warn", "\">", Html(Decision(c)), "</span></td>");
    for (const char* kind : {"prompt", "answer"}) {
      if (has_audio(c.call_id(), kind)) {
        absl::StrAppend(&body, "<td><audio controls preload=\"metadata\" data-kind=\"", kind,
                        "\" src=\"/audio/", Url(c.call_id()), "/", kind, ".wav\"></audio></td>");
      } else {
        absl::StrAppend(&body, "<td>-</td>");
      }
    }
    absl::StrAppend(&body, "</tr>");
  }
  return body + "</tbody></table>";
}

}  // namespace

void WebConsole::IncidentPage(const httplib::Request& req, httplib::Response& res) {
  const std::string id = req.matches[1];
  absl::StatusOr<v1::Incident> incident = store_.GetIncident(id);
  if (!incident.ok()) {
    res.status = incident.status().code() == absl::StatusCode::kNotFound ? 404 : 500;
    res.set_content(Page("Incident", Html(std::string(incident.status().message()))),
                    "text/html; charset=utf-8");
    return;
  }
  const v1::Incident& i = *incident;
  std::string body = absl::StrCat(
      "<section><b>", Html(Workload(i.workload())), "</b> <span class=\"tag\">",
      Html(ErrorClassName(i.error_class())), "</span> <span class=\"tag\" id=\"state\">",
      Html(IncidentStateName(i.state())), "</span><p>", Html(i.summary()),
      "</p><p>Reason: ", Html(i.reason()), " &middot; seen ", i.count(),
      " times &middot; severity ", Html(i.severity()), "</p></section>");
  absl::StrAppend(&body, "<section id=\"timeline\"><h2>Timeline</h2><table><tr><td>",
                  Html(Time(i.first_seen())), "</td><td>detected</td><td></td></tr>");
  for (const v1::StateTransition& t : i.transitions()) {
    absl::StrAppend(&body, "<tr><td>", Html(Time(t.time())), "</td><td>",
                    Html(IncidentStateName(t.from())), " &rarr; ", Html(IncidentStateName(t.to())),
                    "</td><td>", Html(t.note()), "</td></tr>");
  }
  absl::StrAppend(&body, "</table></section><section id=\"evidence\"><h2>Evidence</h2><pre>");
  for (const std::string& e : i.evidence()) absl::StrAppend(&body, Html(e), "\n");
  absl::StrAppend(&body, "</pre></section>");
  absl::StatusOr<std::vector<v1::FixAttempt>> attempts = store_.ListFixAttempts(id);
  if (attempts.ok()) {
    for (const v1::FixAttempt& a : *attempts) {
      absl::StrAppend(&body, "<section class=\"attempt\"><h2>Fix attempt ", Html(a.id()),
                      "</h2><p>", Html(a.strategy()), " &middot; <span class=\"tag\">",
                      Html(FixStatusName(a.status())), "</span> &middot; ", Html(Time(a.started())),
                      "</p><p>", Html(a.explanation()), "</p><h3>Proposed diff</h3>",
                      DiffHtml(a.diff()), "<h3>Guard</h3><p><span class=\"tag ",
                      a.guard().allowed() ? "ok\">allowed" : "bad\">refused", "</span></p><ul>");
      for (const std::string& v : a.guard().violations()) {
        absl::StrAppend(&body, "<li>", Html(v), "</li>");
      }
      absl::StrAppend(&body, "</ul><h3>Dry run</h3><p>", Html(a.dry_run_result()),
                      "</p><h3>Verification</h3><ul>");
      for (const std::string& v : a.verification_evidence()) {
        absl::StrAppend(&body, "<li>", Html(v), "</li>");
      }
      absl::StrAppend(&body, "</ul>", a.rolled_back() ? "<p>Rolled back: " : "",
                      a.rolled_back() ? Html(a.rollback_reason()) + "</p>" : "",
                      a.error().empty() ? "" : "<p>Error: " + Html(a.error()) + "</p>",
                      "</section>");
    }
  }
  if (!i.pull_request_id().empty()) {
    absl::StatusOr<v1::PullRequest> pr = store_.GetPullRequest(i.pull_request_id());
    if (pr.ok()) {
      absl::StrAppend(&body, "<section id=\"pr\"><h2>Pull request</h2><p>");
      if (absl::StartsWith(pr->url(), "http://") || absl::StartsWith(pr->url(), "https://")) {
        absl::StrAppend(&body, "<a href=\"", Html(pr->url()), "\">", Html(pr->title()), "</a>");
      } else {
        absl::StrAppend(&body, Html(pr->title()), " (", Html(pr->url()), ")");
      }
      absl::StrAppend(&body, " &middot; ", Html(pr->state()), " &middot; branch ",
                      Html(pr->branch()), " &middot; commit ", Html(pr->commit()),
                      "</p></section>");
    }
  }
  absl::StatusOr<std::vector<telephony::v1::CallRecord>> calls = Calls(id);
  if (calls.ok() && !calls->empty()) {
    absl::StrAppend(&body, "<section><h2>Calls</h2>",
                    CallsTable(*calls, [this](const std::string& call,
                                              const char* kind) { return HasAudio(call, kind); }),
                    "</section>");
  }
  res.set_content(Page(absl::StrCat("Incident ", i.id()), body), "text/html; charset=utf-8");
}

void WebConsole::CallsPage(const httplib::Request&, httplib::Response& res) {
  absl::StatusOr<std::vector<telephony::v1::CallRecord>> calls = Calls("");
  if (!calls.ok()) {
    res.status = 502;
    res.set_content(Page("Calls", Html(calls.status().ToString())), "text/html; charset=utf-8");
    return;
  }
  res.set_content(
      Page("Calls", CallsTable(*calls, [this](const std::string& call,
                                              const char* kind) { return HasAudio(call, kind); }) +
                        absl::StrCat("<p>", calls->size(), " calls</p>")),
      "text/html; charset=utf-8");
}

void WebConsole::IncidentsCsv(const httplib::Request&, httplib::Response& res) {
  IncidentFilter filter;
  filter.page_size = 1000;
  std::string csv = "id,namespace,kind,name,class,state,count,first_seen,last_seen,summary\n";
  for (int page = 0; page < 100; ++page) {
    absl::StatusOr<remediator::IncidentPage> listed = store_.ListIncidents(filter);
    if (!listed.ok()) break;
    for (const v1::Incident& i : listed->incidents) {
      absl::StrAppend(&csv, Csv(i.id()), ",", Csv(i.workload().namespace_()), ",",
                      Csv(i.workload().kind()), ",", Csv(i.workload().name()), ",",
                      ErrorClassName(i.error_class()), ",", IncidentStateName(i.state()), ",",
                      i.count(), ",", Csv(Time(i.first_seen())), ",", Csv(Time(i.last_seen())), ",",
                      Csv(i.summary()), "\n");
    }
    if (listed->next_page_token.empty()) break;
    filter.page_token = listed->next_page_token;
  }
  res.set_header("Content-Disposition", "attachment; filename=\"incidents.csv\"");
  res.set_content(csv, "text/csv; charset=utf-8");
}

void WebConsole::CallsCsv(const httplib::Request&, httplib::Response& res) {
  absl::StatusOr<std::vector<telephony::v1::CallRecord>> calls = Calls("");
  if (!calls.ok()) {
    res.status = 502;
    res.set_content(calls.status().ToString(), "text/plain; charset=utf-8");
    return;
  }
  std::string csv = "call_time,number,incident_id,outcome,transcript,decision,can_intervene\n";
  for (const auto& c : *calls) {
    absl::StrAppend(&csv, Csv(Time(c.call_time())), ",", Csv(c.number()), ",", Csv(c.incident_id()),
                    ",", CallOutcome(c), ",", Csv(c.transcript()), ",", Decision(c), ",",
                    c.can_intervene() ? "true" : "false", "\n");
  }
  res.set_header("Content-Disposition", "attachment; filename=\"calls.csv\"");
  res.set_content(csv, "text/csv; charset=utf-8");
}

void WebConsole::Audio(const httplib::Request& req, httplib::Response& res) {
  const std::string call_id = req.matches[1];
  const std::string kind = req.matches[2];
  if (options_.audio_dir.empty() || !SafeId(call_id)) {
    res.status = 404;
    return;
  }
  absl::StatusOr<std::string> wav =
      ReadFile(absl::StrCat(options_.audio_dir, "/", call_id, "-", kind, ".wav"));
  if (!wav.ok()) {
    res.status = 404;
    return;
  }
  res.set_content(*std::move(wav), "audio/wav");
}

}  // namespace remediator::console
