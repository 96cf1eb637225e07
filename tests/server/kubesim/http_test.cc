// The kubesim HTTP API at the wire level (what kubectl does not show directly): discovery content
// types, Status errors, dry run, watch bookmarks and 410 Expired in both forms, events.k8s.io,
// the test hooks, and the kubesim binary's CLI.
#include <httplib.h>
#include <signal.h>

#include <filesystem>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/common/file_util.h"
#include "server/kubesim/kubesim.h"
#include "tests/server/kubesim/run_command.h"
#include "tests/testing/status_matchers.h"

namespace remediator::kubesim {
namespace {

using nlohmann::json;
using ::remediator::testing::IsOk;
using ::testing::HasSubstr;

constexpr char kWorld[] = R"(
images:
- name: nginx:1.27
  workingSet: 12Mi
  startLogs: ["nginx ready", "nginx serving"]
manifests:
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: web, namespace: app, labels: {app: web}}
  spec:
    replicas: 1
    selector: {matchLabels: {app: web}}
    template:
      metadata: {labels: {app: web}}
      spec:
        containers: [{name: web, image: nginx:1.27}]
)";

class HttpTest : public ::testing::Test {
 protected:
  void Start(bool expired_as_http = false) {
    KubeSimOptions opts;
    opts.world_yaml = kWorld;
    opts.manual_clock = true;
    opts.watch_expired_as_http_status = expired_as_http;
    opts.bookmark_interval = absl::Milliseconds(100);
    auto sim = KubeSim::Start(opts);
    ASSERT_THAT(sim.status(), IsOk());
    sim_ = std::move(*sim);
    sim_->AdvanceClock(absl::Seconds(5));
    client_ = std::make_unique<httplib::Client>("127.0.0.1", sim_->port());
    client_->set_read_timeout(10, 0);
  }
  void SetUp() override { Start(); }

  json GetJson(const std::string& path, int* status = nullptr, const std::string& accept = "") {
    httplib::Headers h;
    if (!accept.empty()) h.emplace("Accept", accept);
    auto res = client_->Get(path.c_str(), h);
    EXPECT_TRUE(res) << path;
    if (!res) return nullptr;
    if (status) *status = res->status;
    return json::parse(res->body, nullptr, false);
  }

  std::unique_ptr<KubeSim> sim_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(HttpTest, AggregatedDiscoveryUsesTheExactContentType) {
  httplib::Headers h = {{"Accept",
                         "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
                         "application/json"}};
  auto res = client_->Get("/apis", h);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Content-Type"),
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
  json body = json::parse(res->body);
  bool deploy = false;
  for (const json& g : body["items"]) {
    for (const json& r : g["versions"][0]["resources"]) {
      if (r["resource"] == "deployments") {
        deploy = r["shortNames"] == json({"deploy"}) && r["scope"] == "Namespaced" &&
                 r["responseKind"]["kind"] == "Deployment";
      }
    }
  }
  EXPECT_TRUE(deploy);
  int status = 0;
  json legacy = GetJson("/api", &status);
  EXPECT_EQ(legacy["kind"], "APIVersions");
  json version = GetJson("/version");
  EXPECT_EQ(version["minor"], "32");
  json openapi = GetJson("/openapi/v3");
  ASSERT_TRUE(openapi["paths"].contains("apis/apps/v1"));
  json gv = GetJson(openapi["paths"]["apis/apps/v1"]["serverRelativeURL"]);
  bool field_validation = false;
  for (auto& [path, ops] : gv["paths"].items()) {
    if (!ops.contains("patch")) continue;
    if (ops["patch"]["x-kubernetes-group-version-kind"]["kind"] != "Deployment") continue;
    for (const json& p : ops["patch"]["parameters"]) {
      field_validation |= p["name"] == "fieldValidation" && p["in"] == "query";
    }
  }
  EXPECT_TRUE(field_validation);
  GetJson("/openapi/v2", &status);
  EXPECT_EQ(status, 404);
}

TEST_F(HttpTest, ErrorsAreStatusObjects) {
  int status = 0;
  json nf = GetJson("/apis/apps/v1/namespaces/app/deployments/nope", &status);
  EXPECT_EQ(status, 404);
  EXPECT_EQ(nf["kind"], "Status");
  EXPECT_EQ(nf["reason"], "NotFound");
  EXPECT_EQ(nf["message"], "deployments.apps \"nope\" not found");
  EXPECT_EQ(nf["details"]["group"], "apps");

  json dep = GetJson("/apis/apps/v1/namespaces/app/deployments/web");
  dep["metadata"].erase("resourceVersion");
  auto res =
      client_->Post("/apis/apps/v1/namespaces/app/deployments", dep.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 409);
  EXPECT_EQ(json::parse(res->body)["reason"], "AlreadyExists");

  json bad = {{"apiVersion", "apps/v1"},
              {"kind", "Deployment"},
              {"metadata", {{"name", "bad"}}},
              {"spec",
               {{"selector", {{"matchLabels", {{"app", "x"}}}}},
                {"template",
                 {{"metadata", {{"labels", {{"app", "y"}}}}},
                  {"spec", {{"containers", json::array({{{"name", "c"}}})}}}}}}}};
  res = client_->Post("/apis/apps/v1/namespaces/app/deployments", bad.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 422);
  json inv = json::parse(res->body);
  EXPECT_EQ(inv["reason"], "Invalid");
  EXPECT_THAT(inv["message"].get<std::string>(),
              HasSubstr("Deployment.apps \"bad\" is invalid: [spec.template.metadata.labels: "
                        "Invalid value: map[string]string{\"app\":\"y\"}: `selector` does not "
                        "match template `labels`, spec.template.spec.containers[0].image: "
                        "Required value]"));
  EXPECT_EQ(inv["details"]["causes"].size(), 2u);

  // Stale resourceVersion on PUT: 409 Conflict.
  json web = GetJson("/apis/apps/v1/namespaces/app/deployments/web");
  web["metadata"]["resourceVersion"] = "1";
  web["spec"]["replicas"] = 4;
  res =
      client_->Put("/apis/apps/v1/namespaces/app/deployments/web", web.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 409);
  EXPECT_THAT(json::parse(res->body)["message"].get<std::string>(),
              HasSubstr("the object has been modified"));

  res = client_->Patch("/apis/apps/v1/namespaces/app/deployments/web", "{}", "application/x-yaml");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 415);
  res = client_->Patch("/apis/apps/v1/namespaces/app/deployments/web",
                       R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"}})",
                       "application/apply-patch+yaml");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 422);
  EXPECT_THAT(res->body, HasSubstr("fieldManager: Required value: is required for apply patch"));
}

TEST_F(HttpTest, DryRunValidatesAndReturnsButStoresNothing) {
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "p1"}}},
              {"spec", {{"containers", json::array({{{"name", "c"}, {"image", "nginx:1.27"}}})}}}};
  auto res =
      client_->Post("/api/v1/namespaces/app/pods?dryRun=All", pod.dump(), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 201);
  EXPECT_EQ(json::parse(res->body)["spec"]["restartPolicy"], "Always");  // defaulted
  int status = 0;
  GetJson("/api/v1/namespaces/app/pods/p1", &status);
  EXPECT_EQ(status, 404);
  std::string before =
      GetJson("/apis/apps/v1/namespaces/app/deployments/web")["metadata"]["resourceVersion"];
  res = client_->Patch("/apis/apps/v1/namespaces/app/deployments/web?dryRun=All",
                       R"({"spec":{"replicas":7}})", "application/merge-patch+json");
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body)["spec"]["replicas"], 7);
  json after = GetJson("/apis/apps/v1/namespaces/app/deployments/web");
  EXPECT_EQ(after["spec"]["replicas"], 1);
  EXPECT_EQ(after["metadata"]["resourceVersion"], before);
  res = client_->Delete("/apis/apps/v1/namespaces/app/deployments/web?dryRun=All");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  GetJson("/apis/apps/v1/namespaces/app/deployments/web", &status);
  EXPECT_EQ(status, 200);
}

TEST_F(HttpTest, ListsHonourSelectorsAndEventsHaveBothViews) {
  json list = GetJson("/api/v1/namespaces/app/pods?labelSelector=app%3Dweb");
  ASSERT_EQ(list["items"].size(), 1u);
  EXPECT_EQ(list["kind"], "PodList");
  EXPECT_FALSE(list["metadata"]["resourceVersion"].get<std::string>().empty());
  EXPECT_EQ(GetJson("/api/v1/namespaces/app/pods?labelSelector=app%20in%20(db)")["items"].size(),
            0u);
  std::string pod = list["items"][0]["metadata"]["name"];
  json core = GetJson("/api/v1/namespaces/app/events?fieldSelector=involvedObject.name%3D" + pod +
                      ",reason%3DStarted");
  ASSERT_EQ(core["items"].size(), 1u);
  EXPECT_EQ(core["items"][0]["involvedObject"]["fieldPath"], "spec.containers{web}");
  json v1 = GetJson("/apis/events.k8s.io/v1/namespaces/app/events");
  bool found = false;
  for (const json& e : v1["items"]) {
    found |= e["regarding"]["name"] == pod && e["note"] == "Started container web" &&
             e["reportingController"] == "kubelet";
  }
  EXPECT_TRUE(found);
  json table = GetJson("/api/v1/namespaces/app/pods", nullptr,
                       "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");
  EXPECT_EQ(table["kind"], "Table");
  EXPECT_EQ(table["columnDefinitions"][0]["name"], "Name");
  EXPECT_EQ(table["rows"][0]["cells"][2], "Running");
  EXPECT_EQ(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
}

// Reads a watch stream until `lines` lines arrived or it ends.
std::vector<json> ReadWatch(httplib::Client& client, const std::string& path, size_t lines,
                            int* status) {
  std::vector<json> out;
  std::string buf;
  auto res = client.Get(path.c_str(), [&](const char* data, size_t len) {
    buf.append(data, len);
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      out.push_back(json::parse(buf.substr(0, nl), nullptr, false));
      buf.erase(0, nl + 1);
    }
    return out.size() < lines;
  });
  if (res) *status = res->status;
  return out;
}

TEST_F(HttpTest, WatchReplaysChangesSendsBookmarksAndEndsAtTimeout) {
  json list = GetJson("/apis/apps/v1/namespaces/app/deployments");
  std::string rv = list["metadata"]["resourceVersion"];
  auto res = client_->Patch("/apis/apps/v1/namespaces/app/deployments/web",
                            R"({"spec":{"replicas":2}})", "application/merge-patch+json");
  ASSERT_TRUE(res);
  int status = 0;
  auto events =
      ReadWatch(*client_,
                "/apis/apps/v1/namespaces/app/deployments?watch=1&allowWatchBookmarks=true"
                "&fieldSelector=metadata.name%3Dweb&timeoutSeconds=1&resourceVersion=" +
                    rv,
                100, &status);
  EXPECT_EQ(status, 200);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events[0]["type"], "MODIFIED");
  EXPECT_EQ(events[0]["object"]["kind"], "Deployment");
  EXPECT_EQ(events[0]["object"]["apiVersion"], "apps/v1");
  EXPECT_EQ(events[0]["object"]["spec"]["replicas"], 2);
  bool bookmark = false;
  for (const json& e : events) {
    bookmark |= e["type"] == "BOOKMARK" && e["object"]["kind"] == "Deployment" &&
                e["object"]["metadata"].contains("resourceVersion");
  }
  EXPECT_TRUE(bookmark);
}

TEST_F(HttpTest, WatchFromACompactedVersionGetsAnInStreamExpiredError) {
  std::string rv = GetJson("/api/v1/namespaces/app/pods")["metadata"]["resourceVersion"];
  client_->Patch("/apis/apps/v1/namespaces/app/deployments/web", R"({"spec":{"replicas":3}})",
                 "application/merge-patch+json");
  auto res = client_->Post("/kubesim/v1/compact", "", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  int status = 0;
  auto events = ReadWatch(*client_, "/api/v1/namespaces/app/pods?watch=true&resourceVersion=" + rv,
                          10, &status);
  EXPECT_EQ(status, 200);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["type"], "ERROR");
  EXPECT_EQ(events[0]["object"]["code"], 410);
  EXPECT_EQ(events[0]["object"]["reason"], "Expired");
  EXPECT_THAT(events[0]["object"]["message"].get<std::string>(),
              HasSubstr("too old resource version: " + rv));
}

TEST(HttpExpiredTest, WatchFromACompactedVersionCanBeAnHttp410) {
  KubeSimOptions opts;
  opts.world_yaml = kWorld;
  opts.manual_clock = true;
  opts.watch_expired_as_http_status = true;
  auto sim = KubeSim::Start(opts);
  ASSERT_THAT(sim.status(), IsOk());
  (*sim)->CompactHistory();
  httplib::Client client("127.0.0.1", (*sim)->port());
  auto res = client.Get("/api/v1/namespaces/app/pods?watch=1&resourceVersion=5");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 410);
  json body = json::parse(res->body);
  EXPECT_EQ(body["reason"], "Expired");
  EXPECT_EQ(body["kind"], "Status");
}

TEST_F(HttpTest, AdvanceHookMovesTheSimulatedClock) {
  absl::Time before = sim_->Now();
  auto res = client_->Post("/kubesim/v1/advance?seconds=90", "", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(sim_->Now() - before, absl::Seconds(90));
  json table = GetJson("/apis/apps/v1/namespaces/app/deployments", nullptr,
                       "application/json;as=Table;v=v1;g=meta.k8s.io");
  EXPECT_EQ(table["rows"][0]["cells"][4], "95s");
  res = client_->Post("/kubesim/v1/advance?seconds=abc", "", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
}

TEST(HttpRaceTest, PatchesNeverConflictWithTheControllersOwnWrites) {
  // Accelerated clock: controllers and kubelet write all the time while the client patches.
  KubeSimOptions opts;
  opts.world_yaml = std::string(kWorld) + R"(
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: oom, namespace: app}
  spec:
    replicas: 3
    selector: {matchLabels: {app: oom}}
    template:
      metadata: {labels: {app: oom}}
      spec:
        containers: [{name: c, image: nginx:1.27, resources: {limits: {memory: 8Mi}}}]
)";
  opts.time_scale = 200;
  auto sim = KubeSim::Start(opts);
  ASSERT_THAT(sim.status(), IsOk());
  httplib::Client client("127.0.0.1", (*sim)->port());
  for (int i = 0; i < 40; ++i) {
    auto res = client.Patch("/apis/apps/v1/namespaces/app/deployments/oom",
                            absl::StrCat(R"({"metadata":{"annotations":{"n":")", i, R"("}}})"),
                            "application/merge-patch+json");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    auto pod = client.Patch("/api/v1/namespaces/app/pods/does-not-exist", "{}",
                            "application/merge-patch+json");
    ASSERT_TRUE(pod);
    EXPECT_EQ(pod->status, 404);
  }
  auto d = (*sim)->Get("deployments", "app", "oom");
  ASSERT_THAT(d.status(), IsOk());
  EXPECT_EQ((*d)["metadata"]["annotations"]["n"], "39");
}

TEST_F(HttpTest, LogsHonourTailLinesSinceSecondsAndTimestamps) {
  std::string pod = GetJson("/api/v1/namespaces/app/pods")["items"][0]["metadata"]["name"];
  ASSERT_THAT(sim_->Apply(R"(apiVersion: v1
kind: Pod
metadata: {name: talker, namespace: app}
spec:
  containers: [{name: c, image: nginx:1.27}]
)"),
              IsOk());
  sim_->AdvanceClock(absl::Seconds(60));
  auto res = client_->Get("/api/v1/namespaces/app/pods/talker/log?container=c&sinceSeconds=30");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "");  // the lines were printed a minute ago
  res = client_->Get("/api/v1/namespaces/app/pods/talker/log?sinceSeconds=120&timestamps=true");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain");
  EXPECT_THAT(res->body,
              ::testing::MatchesRegex("[0-9T:.-]+Z nginx ready\n[0-9T:.-]+Z nginx serving\n"));
  res = client_->Get("/api/v1/namespaces/app/pods/talker/log?tailLines=1");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "nginx serving\n");
  res = client_->Get("/api/v1/namespaces/app/pods/talker/log?container=nope");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_THAT(res->body, HasSubstr("container nope is not valid for pod talker"));
}

// --- the kubesim binary -------------------------------------------------------------------

std::string TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "kubesim-cli-XXXXXX").string();
  char* d = mkdtemp(tmpl.data());
  return d ? std::string(d) : std::string();
}

TEST(CliTest, HelpExplainsEveryFlagAndBadFlagsAreUsageErrors) {
  std::string dir = TempDir();
  auto r = testing::Run({KUBESIM_BINARY, "--help"}, dir);
  EXPECT_EQ(r.exit_code, 0);
  for (const char* flag : {"--world", "--listen", "--kubeconfig-out", "--manifests", "--time-scale",
                           "--manual-clock", "--tls-cert", "--tls-key", "--client-ca", "--token"}) {
    EXPECT_THAT(r.out, HasSubstr(flag));
  }
  r = testing::Run({KUBESIM_BINARY, "--listen", "nonsense"}, dir);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--listen wants HOST:PORT"));
  r = testing::Run({KUBESIM_BINARY, "--world", dir + "/missing.yaml"}, dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("missing.yaml"));
  std::filesystem::remove_all(dir);
}

TEST(CliTest, ServesTheSeedWorldWritesAKubeconfigAndStopsOnSigterm) {
  std::string dir = TempDir();
  testing::Child child(
      {KUBESIM_BINARY, "--world", SEED_WORLD, "--manifests", SEED_MANIFESTS, "--listen",
       "127.0.0.1:0", "--kubeconfig-out", dir + "/kc", "--time-scale", "30"},
      dir);
  ASSERT_TRUE(child.WaitForStdout(
      [](const std::string& out) { return out.find("listening on 127.0.0.1:") == 0; },
      absl::Seconds(20)))
      << child.Stderr();
  std::string out = child.Stdout();
  int port = std::stoi(out.substr(out.rfind(':') + 1));
  EXPECT_GT(port, 0);
  auto kc = ReadFile(dir + "/kc");
  ASSERT_THAT(kc.status(), IsOk());
  EXPECT_THAT(*kc, HasSubstr(absl::StrCat("server: http://127.0.0.1:", port)));
  httplib::Client client("127.0.0.1", port);
  // 30x time: within a few real seconds nginx is crash-looping and reports cannot pull.
  bool crash = false, pull = false;
  for (int i = 0; i < 200 && !(crash && pull); ++i) {
    auto res = client.Get("/api/v1/namespaces/app/pods");
    ASSERT_TRUE(res);
    json pods = json::parse(res->body);
    for (const json& p : pods["items"]) {
      if (!p["status"].contains("containerStatuses")) continue;
      json w = p["status"]["containerStatuses"][0]["state"].value("waiting", json::object());
      crash |= w.value("reason", "") == "CrashLoopBackOff";
      pull |= w.value("reason", "") == "ImagePullBackOff";
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_TRUE(crash);
  EXPECT_TRUE(pull);
  child.Signal(SIGTERM);
  EXPECT_EQ(child.Wait(absl::Seconds(10)), 0) << child.Stderr();
  EXPECT_THAT(child.Stderr(), HasSubstr("kubesim stopping"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace remediator::kubesim
