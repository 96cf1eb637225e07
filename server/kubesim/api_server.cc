#include "server/kubesim/api_server.h"

#include <httplib.h>

#include <chrono>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/common/logging.h"
#include "server/kubesim/api_error.h"
#include "server/kubesim/k8s_util.h"
#include "server/kubesim/patch.h"
#include "server/kubesim/protobuf_codec.h"
#include "server/kubesim/rbac.h"
#include "server/kubesim/reviews.h"
#include "server/kubesim/tables.h"

namespace remediator::kubesim {
namespace {

constexpr char kJson[] = "application/json";
constexpr char kWatchContentType[] = "application/json;stream=watch";

void SendJson(httplib::Response& res, int code, const json& body) {
  res.status = code;
  res.set_content(body.dump(), kJson);
}

void SendError(httplib::Response& res, const absl::Status& status) {
  int code = 500;
  json body = StatusJson(status, &code);
  SendJson(res, code, body);
}

std::string Param(const httplib::Request& req, const char* name) {
  return req.has_param(name) ? req.get_param_value(name) : "";
}

bool BoolParam(const httplib::Request& req, const char* name) {
  std::string v = Param(req, name);
  return v == "1" || v == "true" || v == "True";
}

// events.k8s.io/v1 view of a stored core/v1 Event.
json ToEventsV1(const json& ev) {
  json out = {{"apiVersion", "events.k8s.io/v1"},
              {"kind", "Event"},
              {"metadata", ev["metadata"]},
              {"regarding", ev.value("involvedObject", json::object())},
              {"note", ev.value("message", "")},
              {"reason", ev.value("reason", "")},
              {"type", ev.value("type", "")},
              {"reportingController", ev.value("reportingComponent", "")},
              {"reportingInstance", ev.value("reportingInstance", "")},
              {"deprecatedSource", ev.value("source", json::object())},
              {"deprecatedFirstTimestamp", ev.value("firstTimestamp", json())},
              {"deprecatedLastTimestamp", ev.value("lastTimestamp", json())},
              {"deprecatedCount", ev.value("count", 1)},
              {"eventTime", ev.value("eventTime", json())}};
  if (out["eventTime"].is_null()) {
    std::string first = ev.value("firstTimestamp", "");
    out["eventTime"] =
        first.empty() ? json() : json(first.substr(0, first.size() - 1) + ".000000Z");
  }
  if (ev.contains("action")) out["action"] = ev["action"];
  return out;
}

// core/v1 Event from an events.k8s.io/v1 body.
json FromEventsV1(const json& ev) {
  json out = {{"apiVersion", "v1"},
              {"kind", "Event"},
              {"metadata", ev.value("metadata", json::object())},
              {"involvedObject", ev.value("regarding", json::object())},
              {"message", ev.value("note", "")},
              {"reason", ev.value("reason", "")},
              {"type", ev.value("type", "Normal")},
              {"reportingComponent", ev.value("reportingController", "")},
              {"reportingInstance", ev.value("reportingInstance", "")},
              {"source", ev.value("deprecatedSource", json::object())},
              {"count", ev.value("deprecatedCount", 1)},
              {"eventTime", ev.value("eventTime", json())}};
  out["firstTimestamp"] = ev.value("deprecatedFirstTimestamp", json());
  out["lastTimestamp"] = ev.value("deprecatedLastTimestamp", json());
  return out;
}

json Present(const ResourceType& type, const json& obj) {
  if (type.group == "events.k8s.io") return ToEventsV1(obj);
  json out = obj;
  out["apiVersion"] = type.ApiVersion();
  out["kind"] = type.kind;
  return out;
}

struct Selectors {
  LabelSelector labels;
  std::optional<FieldSelector> fields;
  bool Matches(const json& obj) const {
    if (!labels.Matches(obj["metadata"].value("labels", json::object()))) return false;
    return !fields || fields->Matches(obj);
  }
};

absl::StatusOr<Selectors> ParseSelectors(const httplib::Request& req) {
  Selectors s;
  auto ls = LabelSelector::Parse(Param(req, "labelSelector"));
  if (!ls.ok()) return BadRequestError(std::string(ls.status().message()));
  s.labels = *ls;
  std::string fs = Param(req, "fieldSelector");
  if (!fs.empty()) {
    auto f = FieldSelector::Parse(fs);
    if (!f.ok()) return BadRequestError(std::string(f.status().message()));
    s.fields = *f;
  }
  return s;
}

WriteOptions WriteOpts(const httplib::Request& req) {
  WriteOptions o;
  o.dry_run = Param(req, "dryRun") == "All";
  if (req.method == "DELETE" && !req.body.empty()) {
    // kubectl delete sends DeleteOptions in the body: {"kind":"DeleteOptions","dryRun":["All"]}.
    json options = json::parse(req.body, nullptr, false);
    if (options.is_object() && options.contains("dryRun") && options["dryRun"].is_array()) {
      for (const json& v : options["dryRun"]) o.dry_run |= v == "All";
    }
  }
  o.field_manager = Param(req, "fieldManager");
  o.force = BoolParam(req, "force");
  return o;
}

// A request body as JSON: kubectl's typed clients send protobuf (see protobuf_codec.h), every
// other client JSON. 400 for a malformed body, 415 for a protobuf kind kubesim cannot decode.
absl::StatusOr<json> ParseBody(const httplib::Request& req) {
  if (IsProtobufContentType(req.get_header_value("Content-Type"))) {
    auto obj = DecodeProtobufObject(req.body);
    if (obj.ok()) return obj;
    if (absl::IsUnimplemented(obj.status())) {
      return ApiError(415, "UnsupportedMediaType", std::string(obj.status().message()));
    }
    return BadRequestError(std::string(obj.status().message()));
  }
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) return BadRequestError("the body of the request is not valid JSON");
  return body;
}

// The identity of a request: the admin, or whom it impersonates (`kubectl --as`, `--as-group`).
UserInfo Requester(const httplib::Request& req) {
  std::string user = req.get_header_value("Impersonate-User");
  if (user.empty()) return AdminUser();
  std::vector<std::string> groups;
  for (size_t i = 0; i < req.get_header_value_count("Impersonate-Group"); ++i) {
    groups.push_back(req.get_header_value("Impersonate-Group", i));
  }
  return ImpersonatedUser(user, groups);
}

std::string VerbOf(const httplib::Request& req, bool named) {
  const std::string& m = req.method;
  if (m == "GET") return named ? "get" : (BoolParam(req, "watch") ? "watch" : "list");
  if (m == "POST") return "create";
  if (m == "PUT") return "update";
  if (m == "PATCH") return "patch";
  if (m == "DELETE") return named ? "delete" : "deletecollection";
  return absl::AsciiStrToLower(m);
}

// Full objects in the rows of a Table when the client asks (`includeObject=Object`, sent by
// `kubectl get --sort-by`).
void IncludeObjects(const httplib::Request& req, const ResourceType& type,
                    const std::vector<json>& objects, json* table) {
  if (Param(req, "includeObject") != "Object") return;
  json& rows = (*table)["rows"];
  for (size_t i = 0; i < rows.size() && i < objects.size(); ++i) {
    rows[i]["object"] = Present(type, objects[i]);
  }
}

}  // namespace

ApiServer::ApiServer(Cluster* cluster, ApiServerOptions options)
    : cluster_(cluster), options_(std::move(options)) {}

ApiServer::~ApiServer() { Stop(); }

absl::StatusOr<std::unique_ptr<ApiServer>> ApiServer::Start(Cluster* cluster,
                                                            const ApiServerOptions& options) {
  std::unique_ptr<ApiServer> s(new ApiServer(cluster, options));
  if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
    if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
      return absl::InvalidArgumentError("--tls-cert and --tls-key must be given together");
    }
    auto ssl = std::make_unique<httplib::SSLServer>(
        options.tls_cert_file.c_str(), options.tls_key_file.c_str(),
        options.client_ca_file.empty() ? nullptr : options.client_ca_file.c_str());
    if (!ssl->is_valid()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot load TLS certificate/key (", options.tls_cert_file, ", ", options.tls_key_file,
          options.client_ca_file.empty() ? "" : ", client CA " + options.client_ca_file, ")"));
    }
    s->server_ = std::move(ssl);
    s->tls_ = true;
  } else {
    if (!options.client_ca_file.empty()) {
      return absl::InvalidArgumentError("--client-ca needs --tls-cert and --tls-key");
    }
    s->server_ = std::make_unique<httplib::Server>();
  }
  httplib::Server& svr = *s->server_;
  svr.new_task_queue = [] { return new httplib::ThreadPool(96); };
  svr.set_keep_alive_max_count(1000);
  // Small JSON answers must not wait for the peer's delayed ACK (Nagle): about 40 ms a request.
  svr.set_tcp_nodelay(true);
  svr.set_payload_max_length(16 * 1024 * 1024);
  ApiServer* self = s.get();
  auto handler = [self](const httplib::Request& req, httplib::Response& res) {
    self->Handle(req, res);
  };
  // One catch-all route per method; routing is done on the split path in Handle().
  svr.Get(".*", handler);
  svr.Post(".*", handler);
  svr.Put(".*", handler);
  svr.Patch(".*", handler);
  svr.Delete(".*", handler);
  int port = options.port;
  if (port == 0) {
    port = svr.bind_to_any_port(options.host);
    if (port < 0) return absl::UnavailableError(absl::StrCat("cannot bind ", options.host, ":0"));
  } else if (!svr.bind_to_port(options.host, port)) {
    return absl::UnavailableError(absl::StrCat("cannot bind ", options.host, ":", port));
  }
  s->port_ = port;
  s->thread_ = std::thread([self] { self->server_->listen_after_bind(); });
  // Wait until the accept loop runs so callers can connect at once.
  for (int i = 0; i < 500 && !svr.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return s;
}

void ApiServer::Stop() {
  if (stopping_.exchange(true)) return;
  cluster_->store().WakeAll();
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

void ApiServer::Handle(const httplib::Request& req, httplib::Response& res) {
  ++requests_;
  LogDebug("kubesim request", {{"method", req.method}, {"path", req.path}});
  const std::string& path = req.path;
  if (!options_.token.empty() && path != "/version") {
    std::string auth = req.get_header_value("Authorization");
    if (auth != "Bearer " + options_.token) {
      SendJson(res, 401,
               {{"kind", "Status"},
                {"apiVersion", "v1"},
                {"metadata", json::object()},
                {"status", "Failure"},
                {"message", "Unauthorized"},
                {"reason", "Unauthorized"},
                {"code", 401}});
      return;
    }
  }
  std::vector<std::string> seg = absl::StrSplit(path, '/', absl::SkipEmpty());
  const std::string accept = req.get_header_value("Accept");
  const std::string& method = req.method;
  // Discovery and friends.
  if (method == "GET") {
    if (path == "/version") return SendJson(res, 200, VersionInfo());
    if (path == "/healthz" || path == "/readyz" || path == "/livez") {
      res.set_content("ok", "text/plain");
      return;
    }
    if (path == "/api" || path == "/apis") {
      if (absl::StrContains(accept, "apidiscovery.k8s.io")) {
        res.set_content(AggregatedDiscovery(path == "/api").dump(),
                        kAggregatedDiscoveryContentType);
      } else {
        SendJson(res, 200, path == "/api" ? LegacyApiVersions() : LegacyApiGroupList());
      }
      return;
    }
    if (seg.size() == 2 && seg[0] == "api") {
      json doc = ApiResourceList("", seg[1]);
      if (!doc.is_null()) return SendJson(res, 200, doc);
    }
    if (seg.size() == 3 && seg[0] == "apis") {
      json doc = ApiResourceList(seg[1], seg[2]);
      if (!doc.is_null()) return SendJson(res, 200, doc);
    }
    if (seg.size() == 2 && seg[0] == "apis") {
      for (const auto& g : LegacyApiGroupList()["groups"]) {
        if (g["name"] == seg[1]) {
          json out = g;
          out["kind"] = "APIGroup";
          out["apiVersion"] = "v1";
          return SendJson(res, 200, out);
        }
      }
    }
    if (path == "/openapi/v3") return SendJson(res, 200, OpenApiIndex());
    if (seg.size() > 2 && seg[0] == "openapi" && seg[1] == "v3") {
      std::string gv = path.substr(std::string("/openapi/v3/").size());
      json doc = OpenApiGroupVersion(gv);
      if (!doc.is_null()) return SendJson(res, 200, doc);
    }
    if (path == "/kubesim/v1/now") {
      return SendJson(res, 200, {{"now", Rfc3339Micro(cluster_->Now())}});
    }
  }
  if (method == "POST" && path == "/kubesim/v1/advance") {
    double seconds = 0;
    if (!absl::SimpleAtod(Param(req, "seconds"), &seconds) || seconds < 0) {
      return SendError(res, BadRequestError("advance needs ?seconds=N with N >= 0"));
    }
    if (options_.advance) options_.advance(absl::Seconds(seconds));
    return SendJson(res, 200, {{"now", Rfc3339Micro(cluster_->Now())}});
  }
  if (method == "POST" && path == "/kubesim/v1/compact") {
    cluster_->store().Compact();
    return SendJson(res, 200, {{"compactedResourceVersion", cluster_->store().compacted_rv()}});
  }
  if (method == "POST" && seg.size() >= 4 && seg[0] == "apis" &&
      (seg[1] == "authorization.k8s.io" || seg[1] == "authentication.k8s.io")) {
    // SubjectAccessReview and friends, evaluated by RBAC (rbac.h); kubectl sends protobuf.
    auto body = ParseBody(req);
    if (!body.ok()) return SendError(res, body.status());
    std::string ns = seg.size() == 6 && seg[3] == "namespaces" ? seg[4] : "";
    auto answer = AnswerReview(cluster_->store(), Requester(req), seg[1], seg.back(), ns, *body);
    if (!answer.ok()) return SendError(res, answer.status());
    return SendJson(res, 201, *answer);
  }
  // Resource paths: /api/v1/... or /apis/<group>/<version>/...
  size_t base = 0;
  std::string group;
  if (seg.size() >= 3 && seg[0] == "api" && seg[1] == "v1") {
    base = 2;
  } else if (seg.size() >= 4 && seg[0] == "apis" && seg[2] == "v1") {
    group = seg[1];
    base = 3;
  } else {
    return SendError(res,
                     ApiError(404, "NotFound", "the server could not find the requested resource"));
  }
  std::vector<std::string> rest(seg.begin() + base, seg.end());
  std::string ns;
  if (rest.size() >= 3 && rest[0] == "namespaces") {
    const ResourceType* inner = FindResource(group, rest[2]);
    if (inner != nullptr && inner->namespaced) {
      ns = rest[1];
      rest.erase(rest.begin(), rest.begin() + 2);
    }
  }
  const ResourceType* type = FindResource(group, rest[0]);
  if (type == nullptr || rest.size() > 3) {
    return SendError(res,
                     ApiError(404, "NotFound", "the server could not find the requested resource"));
  }
  std::string name = rest.size() >= 2 ? rest[1] : "";
  std::string sub = rest.size() >= 3 ? rest[2] : "";
  if (!req.get_header_value("Impersonate-User").empty()) {
    AccessRequest access{true, VerbOf(req, !name.empty()), ns, group, type->resource, sub, name,
                         ""};
    UserInfo user = Requester(req);
    if (!Authorize(cluster_->store(), user, access).allowed) {
      return SendError(res, ApiError(403, "Forbidden", ForbiddenMessage(user, access),
                                     {{"name", name}, {"group", group}, {"kind", type->resource}}));
    }
  }
  if (name.empty()) {
    if (method == "GET") {
      if (BoolParam(req, "watch")) return HandleWatch(req, res, *type, ns);
      return HandleList(req, res, *type, ns);
    }
    if (method == "POST") {
      if (type->namespaced && ns.empty()) {
        return SendError(res, ApiError(405, "MethodNotAllowed",
                                       "the server does not allow this method on the requested "
                                       "resource"));
      }
      auto parsed = ParseBody(req);
      if (!parsed.ok()) return SendError(res, parsed.status());
      json body = std::move(*parsed);
      if (type->group == "events.k8s.io") body = FromEventsV1(body);
      auto created = cluster_->CreateObject(*type, ns, body, WriteOpts(req));
      if (!created.ok()) return SendError(res, created.status());
      return SendJson(res, 201, Present(*type, *created));
    }
    if (method == "DELETE") {
      auto sel = ParseSelectors(req);
      if (!sel.ok()) return SendError(res, sel.status());
      for (const json& obj : cluster_->store().List(StorageResource(*type), ns)) {
        if (!sel->Matches(obj)) continue;
        (void)cluster_->DeleteObject(*type, obj["metadata"].value("namespace", ""),
                                     obj["metadata"].value("name", ""), WriteOpts(req));
      }
      return SendJson(res, 200,
                      {{"kind", "Status"},
                       {"apiVersion", "v1"},
                       {"metadata", json::object()},
                       {"status", "Success"}});
    }
    return SendError(res, ApiError(405, "MethodNotAllowed",
                                   "the server does not allow this method on the requested "
                                   "resource"));
  }
  HandleResource(req, res, *type, ns, name, sub);
}

void ApiServer::HandleResource(const httplib::Request& req, httplib::Response& res,
                               const ResourceType& type, const std::string& ns,
                               const std::string& name, const std::string& sub) {
  const std::string& method = req.method;
  if (sub == "scale" && (type.resource == "deployments" || type.resource == "replicasets")) {
    return HandleScale(req, res, type, ns, name);
  }
  if (sub == "token" && type.resource == "serviceaccounts" && method == "POST") {
    auto parsed = ParseBody(req);
    if (!parsed.ok()) return SendError(res, parsed.status());
    auto sa = cluster_->Get(type, ns, name);
    if (!sa.ok()) return SendError(res, sa.status());
    return SendJson(res, 201, IssueToken(*sa, *parsed, cluster_->Now()));
  }
  if (!sub.empty() && sub != "status" && !(sub == "log" && type.resource == "pods")) {
    return SendError(res,
                     ApiError(404, "NotFound", "the server could not find the requested resource"));
  }
  if (sub == "log") {
    if (method != "GET") {
      return SendError(res, ApiError(405, "MethodNotAllowed", "logs are read-only"));
    }
    LogOptions opts;
    opts.container = Param(req, "container");
    opts.previous = BoolParam(req, "previous");
    opts.timestamps = BoolParam(req, "timestamps");
    std::string tail = Param(req, "tailLines"), since = Param(req, "sinceSeconds");
    if (!tail.empty() && !absl::SimpleAtoi(tail, &opts.tail_lines)) {
      return SendError(res, BadRequestError("tailLines must be an integer"));
    }
    if (!since.empty() && !absl::SimpleAtoi(since, &opts.since_seconds)) {
      return SendError(res, BadRequestError("sinceSeconds must be an integer"));
    }
    auto logs = cluster_->Logs(ns, name, opts);
    if (!logs.ok()) return SendError(res, logs.status());
    res.status = 200;
    res.set_content(*logs, "text/plain");
    return;
  }
  bool status_only = sub == "status";
  if (method == "GET") {
    auto obj = cluster_->Get(type, ns, name);
    if (!obj.ok()) return SendError(res, obj.status());
    if (WantsTable(req.get_header_value("Accept"))) {
      json table =
          ToTable(type, {*obj}, cluster_->Now(), (*obj)["metadata"].value("resourceVersion", ""));
      IncludeObjects(req, type, {*obj}, &table);
      return SendJson(res, 200, table);
    }
    return SendJson(res, 200, Present(type, *obj));
  }
  if (method == "PUT") {
    auto parsed = ParseBody(req);
    if (!parsed.ok()) return SendError(res, parsed.status());
    json body = std::move(*parsed);
    if (type.group == "events.k8s.io") body = FromEventsV1(body);
    auto updated = cluster_->UpdateObject(type, ns, name, body, WriteOpts(req), status_only);
    if (!updated.ok()) return SendError(res, updated.status());
    return SendJson(res, 200, Present(type, *updated));
  }
  if (method == "PATCH") {
    bool created = false;
    auto patched = cluster_->PatchObject(type, ns, name, req.get_header_value("Content-Type"),
                                         req.body, WriteOpts(req), status_only, &created);
    if (!patched.ok()) return SendError(res, patched.status());
    return SendJson(res, created ? 201 : 200, Present(type, *patched));
  }
  if (method == "DELETE") {
    auto deleted = cluster_->DeleteObject(type, ns, name, WriteOpts(req));
    if (!deleted.ok()) return SendError(res, deleted.status());
    return SendJson(res, 200, Present(type, *deleted));
  }
  SendError(res, ApiError(405, "MethodNotAllowed",
                          "the server does not allow this method on the requested resource"));
}

void ApiServer::HandleScale(const httplib::Request& req, httplib::Response& res,
                            const ResourceType& type, const std::string& ns,
                            const std::string& name) {
  auto obj = cluster_->Get(type, ns, name);
  if (!obj.ok()) return SendError(res, obj.status());
  auto to_scale = [&](const json& o) {
    json sel = o["spec"].value("selector", json::object());
    std::vector<std::string> parts;
    json match = sel.value("matchLabels", json::object());
    for (auto it = match.begin(); it != match.end(); ++it) {
      parts.push_back(it.key() + "=" + (it->is_string() ? it->get<std::string>() : it->dump()));
    }
    std::string selector;
    for (size_t i = 0; i < parts.size(); ++i) selector += (i ? "," : "") + parts[i];
    return json({{"kind", "Scale"},
                 {"apiVersion", "autoscaling/v1"},
                 {"metadata",
                  {{"name", name},
                   {"namespace", ns},
                   {"uid", o["metadata"].value("uid", "")},
                   {"resourceVersion", o["metadata"].value("resourceVersion", "")},
                   {"creationTimestamp", o["metadata"].value("creationTimestamp", "")}}},
                 {"spec", {{"replicas", o["spec"].value("replicas", 1)}}},
                 {"status",
                  {{"replicas", o.value("status", json::object()).value("replicas", 0)},
                   {"selector", selector}}}});
  };
  json scale = to_scale(*obj);
  if (req.method == "GET") return SendJson(res, 200, scale);
  json updated;
  if (req.method == "PUT") {
    updated = json::parse(req.body, nullptr, false);
  } else if (req.method == "PATCH") {
    json patch = json::parse(req.body, nullptr, false);
    if (patch.is_discarded()) return SendError(res, BadRequestError("invalid JSON patch body"));
    std::string ct = req.get_header_value("Content-Type");
    if (absl::StartsWith(ct, "application/json-patch+json")) {
      auto r = JsonPatch(scale, patch);
      if (!r.ok())
        return SendError(res, ApiError(422, "Invalid", std::string(r.status().message())));
      updated = *r;
    } else {
      updated = MergePatch(scale, patch);
    }
  } else {
    return SendError(res, ApiError(405, "MethodNotAllowed", "scale supports GET, PUT and PATCH"));
  }
  if (updated.is_discarded() || !updated.contains("spec") ||
      !updated["spec"].value("replicas", json()).is_number()) {
    return SendError(res,
                     InvalidError("Scale.autoscaling", name,
                                  {{"spec.replicas", "Required value", "FieldValueRequired"}}));
  }
  json body = {{"spec", {{"replicas", updated["spec"]["replicas"]}}}};
  bool created = false;
  auto patched = cluster_->PatchObject(type, ns, name, "application/merge-patch+json", body.dump(),
                                       WriteOpts(req), false, &created);
  if (!patched.ok()) return SendError(res, patched.status());
  SendJson(res, 200, to_scale(*patched));
}

void ApiServer::HandleList(const httplib::Request& req, httplib::Response& res,
                           const ResourceType& type, const std::string& ns) {
  auto sel = ParseSelectors(req);
  if (!sel.ok()) return SendError(res, sel.status());
  if (!ns.empty() && type.resource != "namespaces" &&
      !cluster_->store().Get("namespaces", "", ns)) {
    // The apiserver answers an empty list for a missing namespace.
  }
  int64_t rv = 0;
  std::vector<json> items;
  for (const json& obj : cluster_->store().List(StorageResource(type), ns, &rv)) {
    if (sel->Matches(obj)) items.push_back(obj);
  }
  if (WantsTable(req.get_header_value("Accept"))) {
    json table = ToTable(type, items, cluster_->Now(), std::to_string(rv));
    IncludeObjects(req, type, items, &table);
    return SendJson(res, 200, table);
  }
  json list_items = json::array();
  for (const json& obj : items) list_items.push_back(Present(type, obj));
  SendJson(res, 200,
           {{"kind", type.kind + "List"},
            {"apiVersion", type.ApiVersion()},
            {"metadata", {{"resourceVersion", std::to_string(rv)}}},
            {"items", list_items}});
}

void ApiServer::HandleWatch(const httplib::Request& req, httplib::Response& res,
                            const ResourceType& type, const std::string& ns) {
  auto sel = ParseSelectors(req);
  if (!sel.ok()) return SendError(res, sel.status());
  std::string rv_text = Param(req, "resourceVersion");
  int64_t start_rv = 0;
  bool replay = rv_text.empty() || rv_text == "0";
  if (!replay && !absl::SimpleAtoi(rv_text, &start_rv)) {
    return SendError(res,
                     BadRequestError(absl::StrCat("invalid resourceVersion \"", rv_text, "\"")));
  }
  int64_t compacted = cluster_->store().compacted_rv();
  bool expired = !replay && start_rv < compacted;
  json expired_status = {
      {"kind", "Status"},
      {"apiVersion", "v1"},
      {"metadata", json::object()},
      {"status", "Failure"},
      {"message", absl::StrCat("too old resource version: ", start_rv, " (", compacted, ")")},
      {"reason", "Expired"},
      {"code", 410}};
  if (expired && options_.watch_expired_as_http_status) {
    return SendJson(res, 410, expired_status);
  }
  bool table = WantsTable(req.get_header_value("Accept"));
  bool bookmarks = BoolParam(req, "allowWatchBookmarks");
  int64_t timeout_s = 1800;
  if (std::string t = Param(req, "timeoutSeconds"); !t.empty()) absl::SimpleAtoi(t, &timeout_s);
  struct State {
    int64_t rv = 0;
    bool first = true;
    bool header_sent = false;
    absl::Time deadline;
    absl::Time next_bookmark;
    std::vector<std::string> pending;
  };
  auto state = std::make_shared<State>();
  state->deadline = absl::Now() + absl::Seconds(timeout_s);
  state->next_bookmark = absl::Now() + options_.bookmark_interval;
  auto selectors = std::make_shared<Selectors>(*sel);
  const ResourceType* tp = &type;
  std::string storage = StorageResource(type);
  auto render = [this, tp, table, state](const std::string& ev_type, const json& obj) {
    json object;
    if (table) {
      object = ToTable(*tp, {obj}, cluster_->Now(), obj["metadata"].value("resourceVersion", ""),
                       !state->header_sent);
      state->header_sent = true;
    } else {
      object = Present(*tp, obj);
    }
    return json({{"type", ev_type}, {"object", object}}).dump() + "\n";
  };
  if (expired) {
    state->pending.push_back(json({{"type", "ERROR"}, {"object", expired_status}}).dump() + "\n");
    state->deadline = absl::InfinitePast();
  } else if (replay) {
    int64_t rv = 0;
    for (const json& obj : cluster_->store().List(storage, ns, &rv)) {
      if (selectors->Matches(obj)) state->pending.push_back(render("ADDED", obj));
    }
    state->rv = rv;
  } else {
    state->rv = start_rv;
  }
  res.status = 200;
  // Not plain "application/json": httplib would gzip that, and its compressor holds events back.
  res.set_chunked_content_provider(kWatchContentType, [this, state, selectors, storage, ns,
                                                       bookmarks, tp,
                                                       render](size_t, httplib::DataSink& sink) {
    auto flush = [&]() {
      for (const auto& line : state->pending) {
        if (!sink.write(line.data(), line.size())) return false;
      }
      state->pending.clear();
      return true;
    };
    if (!flush()) return false;
    if (stopping_.load() || absl::Now() >= state->deadline) {
      sink.done();
      return true;
    }
    auto events = cluster_->store().WaitForEvents(state->rv, absl::Milliseconds(250));
    for (const auto& ev : events) {
      state->rv = std::max(state->rv, ev.rv);
      if (ev.resource != storage) continue;
      if (!ns.empty() && ev.ns != ns) continue;
      if (!selectors->Matches(ev.object)) continue;
      state->pending.push_back(render(ev.type, ev.object));
    }
    if (bookmarks && absl::Now() >= state->next_bookmark) {
      state->next_bookmark = absl::Now() + options_.bookmark_interval;
      int64_t rv = state->rv;
      state->pending.push_back(json({{"type", "BOOKMARK"},
                                     {"object",
                                      {{"kind", tp->kind},
                                       {"apiVersion", tp->ApiVersion()},
                                       {"metadata", {{"resourceVersion", std::to_string(rv)}}}}}})
                                   .dump() +
                               "\n");
    }
    return flush();
  });
}

}  // namespace remediator::kubesim
