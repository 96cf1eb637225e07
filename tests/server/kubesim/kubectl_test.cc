// Conformance: the real /usr/bin/kubectl against an in-process kubesim on 127.0.0.1:0, with a
// fresh kubeconfig and --cache-dir per test. The simulated clock is manual, so every state the
// commands see is set up by the test.
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
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
using testing::CommandResult;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kKubectl[] = "/usr/bin/kubectl";

constexpr char kWorld[] = R"(
nodes:
- name: node-a
  capacity: {cpu: "4", memory: 8Gi}
images:
- name: nginx:1.2*
  workingSet: 12Mi
  serves: [{port: 80, paths: ["/", "/healthz"]}]
  startLogs: ["nginx: start worker processes", "nginx: ready"]
- name: busybox
  workingSet: 1Mi
  startLogs: ["sidecar up"]
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
        containers:
        - name: web
          image: nginx:1.27
          ports: [{containerPort: 80}]
          resources: {limits: {memory: 64Mi}}
        - name: sidecar
          image: busybox
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: oom, namespace: app, labels: {app: oom}}
  spec:
    replicas: 1
    selector: {matchLabels: {app: oom}}
    template:
      metadata: {labels: {app: oom}}
      spec:
        containers:
        - name: main
          image: nginx:1.27
          resources: {limits: {memory: 8Mi}}
)";

std::string TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "kubesim-test-XXXXXX").string();
  char* d = mkdtemp(tmpl.data());
  return d ? std::string(d) : std::string();
}

class KubectlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kKubectl, X_OK) != 0) GTEST_SKIP() << "/usr/bin/kubectl is not installed";
    dir_ = TempDir();
    ASSERT_FALSE(dir_.empty());
    KubeSimOptions opts;
    opts.world_yaml = kWorld;
    opts.manual_clock = true;
    Customize(&opts);
    auto sim = KubeSim::Start(opts);
    ASSERT_THAT(sim.status(), IsOk());
    sim_ = std::move(*sim);
    ASSERT_THAT(sim_->WriteKubeconfig(dir_ + "/kubeconfig", "app"), IsOk());
    sim_->AdvanceClock(absl::Seconds(20));
  }
  void TearDown() override {
    if (sim_) sim_->Stop();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  virtual void Customize(KubeSimOptions*) {}

  std::vector<std::string> Argv(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {kKubectl, "--kubeconfig", dir_ + "/kubeconfig", "--cache-dir",
                                     dir_ + "/cache"};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
  CommandResult Kubectl(const std::vector<std::string>& args) {
    return testing::Run(Argv(args), dir_, absl::Seconds(60));
  }
  std::string PodOf(const std::string& app) {
    auto pods = sim_->List("pods", "app", "app=" + app);
    EXPECT_TRUE(pods.ok() && pods->size() == 1);
    return pods.ok() && !pods->empty() ? (*pods)[0]["metadata"]["name"].get<std::string>() : "";
  }
  std::string WriteFile(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    EXPECT_THAT(WriteFileAtomically(path, text), IsOk());
    return path;
  }

  std::string dir_;
  std::unique_ptr<KubeSim> sim_;
};

TEST_F(KubectlTest, GetPodsPrintsTheServerTable) {
  CommandResult r = Kubectl({"get", "pods"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_THAT(lines[0], ::testing::MatchesRegex("NAME +READY +STATUS +RESTARTS +AGE"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex(PodOf("web") + " +2/2 +Running +0 +20s"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex(PodOf("oom") +
                                              " +0/1 +CrashLoopBackOff +2 \\([0-9]+s ago\\)"));
  r = Kubectl({"get", "pods", "-o", "wide", "-l", "app=web"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("node-a"));
  EXPECT_THAT(r.out, HasSubstr("10.244.0."));
  r = Kubectl({"get", "pods", "-n", "default"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("No resources found in default namespace."));
}

TEST_F(KubectlTest, GetPodsJsonCarriesTheFullStatus) {
  CommandResult r = Kubectl({"get", "pods", "-o", "json", "-l", "app=oom"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json list = json::parse(r.out);
  ASSERT_EQ(list["items"].size(), 1u);
  const json& pod = list["items"][0];
  EXPECT_EQ(pod["kind"], "Pod");
  EXPECT_EQ(pod["status"]["containerStatuses"][0]["lastState"]["terminated"]["reason"],
            "OOMKilled");
  EXPECT_EQ(pod["status"]["containerStatuses"][0]["lastState"]["terminated"]["exitCode"], 137);
  EXPECT_EQ(pod["metadata"]["ownerReferences"][0]["kind"], "ReplicaSet");
}

TEST_F(KubectlTest, GetEventsPrintsEventColumns) {
  CommandResult r = Kubectl({"get", "events"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::MatchesRegex("LAST SEEN +TYPE +REASON +OBJECT +MESSAGE\n(.|\n)*"));
  std::string oom = PodOf("oom");
  EXPECT_THAT(r.out, ::testing::ContainsRegex(
                         "Warning +BackOff +pod/" + oom +
                         " +Back-off restarting failed container main in pod " + oom + "_app"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("Normal +ScalingReplicaSet +deployment/web +Scaled "
                                              "up replica set web-[a-z0-9]+ from 0 to 1"));
  EXPECT_THAT(r.out,
              ::testing::ContainsRegex("\\(x2 over [0-9]+s\\) +Normal +Started +pod/" + oom));
}

TEST_F(KubectlTest, GetDeploymentYamlAndTable) {
  CommandResult r = Kubectl({"get", "deploy", "web", "-o", "yaml"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("kind: Deployment"));
  EXPECT_THAT(r.out, HasSubstr("deployment.kubernetes.io/revision: \"1\""));
  EXPECT_THAT(r.out, HasSubstr("availableReplicas: 1"));
  EXPECT_THAT(r.out, HasSubstr("observedGeneration: 1"));
  EXPECT_THAT(r.out, HasSubstr("reason: NewReplicaSetAvailable"));
  r = Kubectl({"get", "deploy"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::ContainsRegex("NAME +READY +UP-TO-DATE +AVAILABLE +AGE"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("oom +0/1 +1 +0 +20s"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("web +1/1 +1 +1 +20s"));
  r = Kubectl({"get", "deploy", "nope"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err,
              HasSubstr("Error from server (NotFound): deployments.apps \"nope\" not found"));
}

TEST_F(KubectlTest, LogsCurrentPreviousAndContainer) {
  std::string web = PodOf("web");
  CommandResult r = Kubectl({"logs", web, "-c", "web"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "nginx: start worker processes\nnginx: ready\n");
  r = Kubectl({"logs", web, "-c", "sidecar"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "sidecar up\n");
  r = Kubectl({"logs", web});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("Defaulted container \"web\" out of: web, sidecar"));
  r = Kubectl({"logs", web, "-c", "web", "--tail=1"});
  EXPECT_EQ(r.out, "nginx: ready\n");
  r = Kubectl({"logs", web, "-c", "web", "--previous"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err,
              HasSubstr("previous terminated container \"web\" in pod \"" + web + "\" not found"));
  std::string oom = PodOf("oom");
  r = Kubectl({"logs", oom, "--previous"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "nginx: start worker processes\nnginx: ready\n");
}

TEST_F(KubectlTest, PatchStrategicMergeAndJson) {
  CommandResult r = Kubectl(
      {"patch", "deployment", "web", "--type=strategic", "-p",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.28"}]}}}})"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "deployment.apps/web patched\n");
  auto d = sim_->Get("deployments", "app", "web");
  ASSERT_THAT(d.status(), IsOk());
  const json& containers = (*d)["spec"]["template"]["spec"]["containers"];
  ASSERT_EQ(containers.size(), 2u);  // the sidecar survived
  EXPECT_EQ(containers[0]["image"], "nginx:1.28");
  EXPECT_EQ((*d)["metadata"]["generation"], 2);

  r = Kubectl(
      {"patch", "deployment", "web", "--type=strategic", "-p",
       R"({"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.28"}]}}}})"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "deployment.apps/web patched (no change)\n");

  r = Kubectl({"patch", "deployment", "web", "--type=merge", "-p",
               R"({"metadata":{"labels":{"team":"blue"}}})"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ((*sim_->Get("deployments", "app", "web"))["metadata"]["labels"]["team"], "blue");

  r = Kubectl({"patch", "deployment", "web", "--type=json", "-p",
               R"([{"op":"replace","path":"/spec/replicas","value":2}])"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ((*sim_->Get("deployments", "app", "web"))["spec"]["replicas"], 2);

  r = Kubectl({"patch", "deployment", "web", "--type=json", "-p",
               R"([{"op":"test","path":"/spec/replicas","value":7}])"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("test operation"));

  r = Kubectl({"patch", "deployment", "web", "--type=merge", "--dry-run=server", "-p",
               R"({"spec":{"replicas":5}})"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "deployment.apps/web patched\n");  // kubectl 1.32 adds no dry-run suffix
  EXPECT_EQ((*sim_->Get("deployments", "app", "web"))["spec"]["replicas"], 2);
}

constexpr char kApiManifest[] = R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: app
spec:
  replicas: 1
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
      - name: api
        image: nginx:1.27
        resources: {limits: {memory: 64Mi}}
)";

TEST_F(KubectlTest, ClientSideApplyCreatesConfiguresAndLeavesUnchanged) {
  std::string path = WriteFile("api.yaml", kApiManifest);
  CommandResult r = Kubectl({"apply", "-f", path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "deployment.apps/api created\n");
  auto d = sim_->Get("deployments", "app", "api");
  ASSERT_THAT(d.status(), IsOk());
  EXPECT_TRUE(
      (*d)["metadata"]["annotations"].contains("kubectl.kubernetes.io/last-applied-configuration"));
  r = Kubectl({"apply", "-f", path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "deployment.apps/api unchanged\n");
  std::string changed = kApiManifest;
  changed.replace(changed.find("replicas: 1"), 11, "replicas: 3");
  WriteFile("api.yaml", changed);
  r = Kubectl({"apply", "-f", path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "deployment.apps/api configured\n");
  EXPECT_EQ((*sim_->Get("deployments", "app", "api"))["spec"]["replicas"], 3);
  sim_->AdvanceClock(absl::Seconds(5));
  auto pods = sim_->List("pods", "app", "app=api");
  ASSERT_THAT(pods.status(), IsOk());
  EXPECT_EQ(pods->size(), 3u);
}

TEST_F(KubectlTest, ServerSideApplyCreatesAndUpdates) {
  std::string path = WriteFile("api.yaml", kApiManifest);
  CommandResult r = Kubectl({"apply", "--server-side", "-f", path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "deployment.apps/api serverside-applied\n");
  std::string changed = kApiManifest;
  changed.replace(changed.find("nginx:1.27"), 10, "nginx:1.28");
  WriteFile("api.yaml", changed);
  r = Kubectl({"apply", "--server-side", "-f", path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto d = sim_->Get("deployments", "app", "api");
  EXPECT_EQ((*d)["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.28");
  // A second manager changing the same field conflicts unless forced.
  std::string other = kApiManifest;
  other.replace(other.find("nginx:1.27"), 10, "nginx:1.29");
  WriteFile("api.yaml", other);
  r = Kubectl({"apply", "--server-side", "--field-manager=bot", "-f", path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("conflict with \"kubectl\""));
  r = Kubectl({"apply", "--server-side", "--field-manager=bot", "--force-conflicts", "-f", path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ((*sim_->Get("deployments", "app",
                        "api"))["spec"]["template"]["spec"]["containers"][0]["image"],
            "nginx:1.29");
}

TEST_F(KubectlTest, RolloutStatusWaitsForTheRolloutAndUndoRollsBack) {
  CommandResult r = Kubectl({"rollout", "status", "deployment/web", "--timeout=10s"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "deployment \"web\" successfully rolled out\n");
  r = Kubectl({"set", "image", "deployment/web", "web=nginx:1.28"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  sim_->Reconcile();
  testing::Child status(Argv({"rollout", "status", "deployment/web", "--timeout=30s"}), dir_);
  ASSERT_TRUE(status.WaitForStdout(
      [](const std::string& out) {
        return out.find("Waiting for deployment") != std::string::npos;
      },
      absl::Seconds(20)))
      << status.Stdout() << status.Stderr();
  int code = -1;
  for (int i = 0; i < 200 && code == -1; ++i) {
    sim_->AdvanceClock(absl::Seconds(1));
    code = status.Wait(absl::Milliseconds(50));
  }
  EXPECT_EQ(code, 0) << status.Stderr();
  EXPECT_THAT(status.Stdout(), HasSubstr("deployment \"web\" successfully rolled out"));

  r = Kubectl({"rollout", "undo", "deployment/web"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "deployment.apps/web rolled back\n");
  sim_->AdvanceClock(absl::Seconds(10));
  auto d = sim_->Get("deployments", "app", "web");
  EXPECT_EQ((*d)["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.27");
  EXPECT_EQ((*d)["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "3");
  auto rs = sim_->List("replicasets", "app", "app=web");
  EXPECT_EQ(rs->size(), 2u);
  r = Kubectl({"rollout", "undo", "deployment/web", "--to-revision=9"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("unable to find specified revision 9 in history"));
  r = Kubectl({"rollout", "status", "deployment/web", "--timeout=10s"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(KubectlTest, RolloutStatusReportsAnExceededProgressDeadline) {
  CommandResult r = Kubectl({"patch", "deployment", "oom", "--type=merge", "-p",
                             R"({"spec":{"progressDeadlineSeconds":30}})"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = Kubectl({"set", "image", "deployment/oom", "main=nginx:1.28"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  sim_->AdvanceClock(absl::Seconds(60));
  r = Kubectl({"rollout", "status", "deployment/oom", "--timeout=10s"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("deployment \"oom\" exceeded its progress deadline"));
}

TEST_F(KubectlTest, GetPodsWatchPrintsNewRows) {
  testing::Child watch(Argv({"get", "pods", "-l", "app=web", "-w"}), dir_);
  std::string web = PodOf("web");
  ASSERT_TRUE(watch.WaitForStdout(
      [&](const std::string& out) { return out.find(web) != std::string::npos; },
      absl::Seconds(20)))
      << watch.Stderr();
  CommandResult r = Kubectl({"scale", "deployment/web", "--replicas=2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  sim_->AdvanceClock(absl::Seconds(3));
  auto pods = sim_->List("pods", "app", "app=web");
  ASSERT_EQ(pods->size(), 2u);
  std::string added;
  for (const json& p : *pods) {
    if (p["metadata"]["name"] != web) added = p["metadata"]["name"];
  }
  ASSERT_TRUE(watch.WaitForStdout(
      [&](const std::string& out) {
        return out.find(added) != std::string::npos && out.find("Running") != std::string::npos;
      },
      absl::Seconds(20)))
      << watch.Stdout();
  std::string out = watch.Stdout();
  EXPECT_EQ(out.find("NAME"), 0u);
  EXPECT_EQ(out.find("NAME", 1), std::string::npos);  // header once
  EXPECT_FALSE(watch.Exited());
  watch.Signal(SIGTERM);
  watch.Wait(absl::Seconds(5));
}

TEST_F(KubectlTest, AuthCanIAnswersYes) {
  CommandResult r = Kubectl({"auth", "can-i", "patch", "deployments"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "yes\n");
}

TEST_F(KubectlTest, DeleteCascadesToReplicaSetsAndPods) {
  CommandResult r = Kubectl({"delete", "deployment", "oom"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("deployment.apps \"oom\" deleted"));
  sim_->Reconcile();
  EXPECT_TRUE(sim_->List("pods", "app", "app=oom")->empty());
  EXPECT_TRUE(sim_->List("replicasets", "app", "app=oom")->empty());
}

// --- HTTPS: client certificates and bearer tokens -------------------------------------------

class KubectlTlsTest : public KubectlTest {
 protected:
  void SetUp() override {
    if (access("/usr/bin/openssl", X_OK) != 0) GTEST_SKIP() << "openssl CLI missing";
    certs_ = TempDir();
    auto ssl = [&](const std::vector<std::string>& args) {
      std::vector<std::string> argv = {"/usr/bin/openssl"};
      argv.insert(argv.end(), args.begin(), args.end());
      CommandResult r = testing::Run(argv, certs_);
      ASSERT_EQ(r.exit_code, 0) << r.err;
    };
    std::string d = certs_ + "/";
    ssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "ca.key", "-out",
         d + "ca.crt", "-days", "1", "-subj", "/CN=kubesim-test-ca"});
    WriteFileAtomically(d + "san.ext", "subjectAltName=IP:127.0.0.1,DNS:localhost\n").IgnoreError();
    ssl({"req", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "server.key", "-out",
         d + "server.csr", "-subj", "/CN=127.0.0.1"});
    ssl({"x509", "-req", "-in", d + "server.csr", "-CA", d + "ca.crt", "-CAkey", d + "ca.key",
         "-CAcreateserial", "-out", d + "server.crt", "-days", "1", "-extfile", d + "san.ext"});
    ssl({"req", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "client.key", "-out",
         d + "client.csr", "-subj", "/CN=remediator/O=system:masters"});
    ssl({"x509", "-req", "-in", d + "client.csr", "-CA", d + "ca.crt", "-CAkey", d + "ca.key",
         "-CAcreateserial", "-out", d + "client.crt", "-days", "1"});
    KubectlTest::SetUp();
  }
  void TearDown() override {
    KubectlTest::TearDown();
    if (!certs_.empty()) std::filesystem::remove_all(certs_);
  }
  std::string certs_;
};

class ClientCertTest : public KubectlTlsTest {
  void Customize(KubeSimOptions* o) override {
    o->tls_cert_file = certs_ + "/server.crt";
    o->tls_key_file = certs_ + "/server.key";
    o->tls_ca_file = certs_ + "/ca.crt";
    o->client_ca_file = certs_ + "/ca.crt";
    o->kubeconfig_client_cert_file = certs_ + "/client.crt";
    o->kubeconfig_client_key_file = certs_ + "/client.key";
  }
};

TEST_F(ClientCertTest, KubectlTalksHttpsWithAClientCertificate) {
  EXPECT_THAT(sim_->url(), HasSubstr("https://127.0.0.1:"));
  CommandResult r = Kubectl({"get", "deploy", "web", "-o", "jsonpath={.metadata.name}"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "web");
  // Without the client certificate the handshake is refused.
  std::string kc = testing::Slurp(dir_ + "/kubeconfig");
  std::string stripped = kc.substr(0, kc.find("    client-certificate-data"));
  WriteFile("kubeconfig", stripped + "    {}\n");
  r = Kubectl({"get", "deploy", "web"});
  EXPECT_NE(r.exit_code, 0);
}

class TokenTest : public KubectlTlsTest {
  void Customize(KubeSimOptions* o) override {
    o->tls_cert_file = certs_ + "/server.crt";
    o->tls_key_file = certs_ + "/server.key";
    o->tls_ca_file = certs_ + "/ca.crt";
    o->token = "s3cr3t-token";
  }
};

TEST_F(TokenTest, KubectlSendsTheBearerTokenAndAWrongOneIsUnauthorized) {
  CommandResult r = Kubectl({"get", "pods", "-l", "app=web"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr(PodOf("web")));
  r = Kubectl({"--token", "wrong", "get", "pods"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("Unauthorized"));
}

}  // namespace
}  // namespace remediator::kubesim
