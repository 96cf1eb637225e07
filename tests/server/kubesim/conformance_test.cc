// Conformance suite: the real /usr/bin/kubectl (v1.32) runs the commands a user runs on
// workloads against an in-process kubesim on a manual clock, and each answer is checked against
// the output a real cluster gives (exit code, the kubectl message, the table header, the field
// value). Every `kubectl create` generator is here because kubectl sends those as protobuf.
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "re2/re2.h"
#include "server/common/file_util.h"
#include "server/kubesim/kubesim.h"
#include "tests/server/kubesim/run_command.h"
#include "tests/testing/status_matchers.h"

namespace remediator::kubesim {
namespace {

using nlohmann::json;
using ::remediator::testing::IsOk;

constexpr char kKubectl[] = "/usr/bin/kubectl";

constexpr char kWorld[] = R"(
nodes:
- name: node-a
  capacity: {cpu: "4", memory: 8Gi}
images:
- name: nginx:1.2*
  workingSet: 12Mi
  serves: [{port: 80, paths: ["/"]}]
  startLogs: ["nginx: ready"]
- name: busybox
  workingSet: 1Mi
)";

constexpr char kWorkload[] = R"(apiVersion: apps/v1
kind: Deployment
metadata: {name: web2, namespace: demo, labels: {app: web2}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web2}}
  template:
    metadata: {labels: {app: web2}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports: [{containerPort: 80}]
)";

constexpr char kStorage[] = R"(apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: demo}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: fast, namespace: demo}
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: sc
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: uses-data, namespace: demo}
spec:
  containers: [{name: c, image: nginx:1.27}]
  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]
---
apiVersion: v1
kind: Pod
metadata: {name: uses-fast, namespace: demo}
spec:
  containers: [{name: c, image: nginx:1.27}]
  volumes: [{name: d, persistentVolumeClaim: {claimName: fast}}]
---
apiVersion: v1
kind: Pod
metadata: {name: uses-missing, namespace: demo}
spec:
  containers: [{name: c, image: nginx:1.27}]
  volumes: [{name: d, persistentVolumeClaim: {claimName: nope}}]
)";

// What one kubectl invocation must print: its exit code, substrings of stdout (or of stderr
// when it fails), and an optional full-match regex for stdout.
struct Want {
  int exit_code = 0;
  std::vector<std::string> contains;
  std::string regex;
};

class ConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kKubectl, X_OK) != 0) GTEST_SKIP() << "/usr/bin/kubectl is not installed";
    std::string tmpl = (std::filesystem::temp_directory_path() / "kubesim-conf-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    KubeSimOptions opts;
    opts.world_yaml = kWorld;
    opts.manual_clock = true;
    auto sim = KubeSim::Start(opts);
    ASSERT_THAT(sim.status(), IsOk());
    sim_ = std::move(*sim);
    ASSERT_THAT(sim_->WriteKubeconfig(dir_ + "/kubeconfig", "demo"), IsOk());
    Run({"create", "namespace", "demo"}, {0, {"namespace/demo created"}});
  }
  void TearDown() override {
    if (sim_) sim_->Stop();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Runs kubectl with `args` and checks `want`; returns stdout.
  std::string Run(const std::vector<std::string>& args, const Want& want) {
    std::vector<std::string> argv = {kKubectl, "--kubeconfig", dir_ + "/kubeconfig", "--cache-dir",
                                     dir_ + "/cache"};
    argv.insert(argv.end(), args.begin(), args.end());
    testing::CommandResult r = testing::Run(argv, dir_, absl::Seconds(60));
    std::string cmd = "kubectl " + absl::StrJoin(args, " ");
    EXPECT_EQ(r.exit_code, want.exit_code) << cmd << "\nstdout: " << r.out << "\nstderr: " << r.err;
    const std::string& text = want.exit_code == 0 ? r.out : r.err;
    for (const auto& s : want.contains) {
      EXPECT_TRUE(absl::StrContains(text, s))
          << cmd << "\nwant: " << s << "\ngot: " << text << "\nstderr: " << r.err;
    }
    if (!want.regex.empty()) {
      EXPECT_TRUE(RE2::FullMatch(r.out, want.regex))
          << cmd << "\nwant /" << want.regex << "/\ngot: " << r.out;
    }
    return r.out;
  }
  std::string File(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    EXPECT_THAT(WriteFileAtomically(path, text), IsOk());
    return path;
  }

  std::string dir_;
  std::unique_ptr<KubeSim> sim_;
};

TEST_F(ConformanceTest, EveryCreateGeneratorCreatesWhatARealClusterStores) {
  Run({"create", "deployment", "web", "--image=nginx:1.27", "--replicas=2", "--port=80"},
      {0, {"deployment.apps/web created"}});
  Run({"create", "service", "clusterip", "web", "--tcp=80:80"}, {0, {"service/web created"}});
  Run({"create", "service", "nodeport", "np", "--tcp=80:8080", "--node-port=30080"},
      {0, {"service/np created"}});
  Run({"create", "service", "loadbalancer", "lb", "--tcp=443:8443"}, {0, {"service/lb created"}});
  Run({"create", "service", "externalname", "ext", "--external-name=example.com"},
      {0, {"service/ext created"}});
  Run({"create", "serviceaccount", "sa1"}, {0, {"serviceaccount/sa1 created"}});
  Run({"create", "configmap", "cm1", "--from-literal=a=b", "--from-literal=c=d"},
      {0, {"configmap/cm1 created"}});
  Run({"create", "secret", "generic", "s1", "--from-literal=user=admin"},
      {0, {"secret/s1 created"}});
  Run({"create", "secret", "docker-registry", "s2", "--docker-server=r.example",
       "--docker-username=u", "--docker-password=p"},
      {0, {"secret/s2 created"}});
  if (access("/usr/bin/openssl", X_OK) == 0) {
    testing::CommandResult cert = testing::Run(
        {"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=web.example", "-keyout", dir_ + "/tls.key", "-out", dir_ + "/tls.crt"},
        dir_);
    ASSERT_EQ(cert.exit_code, 0) << cert.err;
    Run({"create", "secret", "tls", "s3", "--cert=" + dir_ + "/tls.crt",
         "--key=" + dir_ + "/tls.key"},
        {0, {"secret/s3 created"}});
    Run({"get", "secret", "s3"}, {0, {"s3     kubernetes.io/tls   2"}});
  }
  Run({"create", "role", "r1", "--verb=get,list", "--resource=pods,deployments.apps"},
      {0, {"role.rbac.authorization.k8s.io/r1 created"}});
  Run({"create", "clusterrole", "cr1", "--verb=get", "--resource=nodes"},
      {0, {"clusterrole.rbac.authorization.k8s.io/cr1 created"}});
  Run({"create", "rolebinding", "rb1", "--role=r1", "--user=alice", "--serviceaccount=demo:sa1"},
      {0, {"rolebinding.rbac.authorization.k8s.io/rb1 created"}});
  Run({"create", "clusterrolebinding", "crb1", "--clusterrole=cr1", "--user=bob"},
      {0, {"clusterrolebinding.rbac.authorization.k8s.io/crb1 created"}});
  Run({"create", "job", "j1", "--image=busybox", "--", "echo", "hi"},
      {0, {"job.batch/j1 created"}});
  Run({"create", "cronjob", "cj1", "--image=busybox", "--schedule=*/5 * * * *", "--", "date"},
      {0, {"cronjob.batch/cj1 created"}});
  Run({"create", "quota", "q1", "--hard=cpu=1,memory=1G,pods=2"},
      {0, {"resourcequota/q1 created"}});
  Run({"create", "poddisruptionbudget", "pdb1", "--selector=app=web", "--min-available=1"},
      {0, {"poddisruptionbudget.policy/pdb1 created"}});
  Run({"create", "priorityclass", "pc1", "--value=1000", "--description=batch"},
      {0, {"priorityclass.scheduling.k8s.io/pc1 created"}});
  Run({"create", "ingress", "ing1", "--rule=foo.example/bar=web:80"},
      {0, {"ingress.networking.k8s.io/ing1 created"}});
  Run({"create", "token", "sa1"},
      {0, {}, R"(eyJ[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]+\.[A-Za-z0-9_=-]+\n?)"});
  // What was stored, read back the way a user checks it.
  Run({"get", "deploy", "web", "-o",
       "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image}"},
      {0, {}, "2 nginx:1.27"});
  Run({"get", "svc", "np", "-o",
       "jsonpath={.spec.type} {.spec.ports[0].nodePort} {.spec.ports[0].targetPort}"},
      {0, {}, "NodePort 30080 8080"});
  Run({"get", "svc"}, {0,
                       {"NAME   TYPE", "lb     LoadBalancer", "<pending>", "80:30080/TCP",
                        "ExternalName", "example.com"}});
  Run({"get", "secret", "s1", "-o", "jsonpath={.data.user}"}, {0, {}, "YWRtaW4="});
  Run({"get", "secret", "s2", "-o", "jsonpath={.type}"}, {0, {}, "kubernetes.io/dockerconfigjson"});
  Run({"get", "configmap", "cm1", "-o", "jsonpath={.data}"}, {0, {}, R"(\{"a":"b","c":"d"\})"});
  Run({"get", "role", "r1", "-o", "jsonpath={.rules[0].apiGroups}"}, {0, {}, R"(\[""\])"});
  Run({"get", "rolebinding", "rb1", "-o", "wide"}, {0, {"ROLE", "Role/r1", "alice", "demo/sa1"}});
  Run({"get", "job", "j1", "-o", "jsonpath={.spec.template.spec.containers[0].command}"},
      {0, {}, R"(\["echo","hi"\])"});
  Run({"get", "cronjob", "cj1"}, {0, {"SCHEDULE", "*/5 * * * *"}});
  Run({"get", "quota", "q1"}, {0, {"REQUEST", "cpu: 0/1"}});
  Run({"get", "pdb", "pdb1", "-o", "jsonpath={.spec.minAvailable}"}, {0, {}, "1"});
  Run({"get", "priorityclass", "pc1", "-o", "jsonpath={.value}"}, {0, {}, "1000"});
  Run({"get", "ingress", "ing1"}, {0, {"HOSTS", "foo.example"}});
  Run({"create", "namespace", "demo"},
      {1, {"Error from server (AlreadyExists): namespaces \"demo\" already exists"}});
  Run({"create", "deployment", "Bad_Name", "--image=nginx"},
      {1, {"Deployment.apps \"Bad_Name\" is invalid: metadata.name: Invalid value"}});
}

TEST_F(ConformanceTest, WorkloadLifecycleCommands) {
  std::string manifest = File("web2.yaml", kWorkload);
  Run({"apply", "-f", manifest}, {0, {"deployment.apps/web2 created"}});
  Run({"apply", "-f", manifest}, {0, {"deployment.apps/web2 unchanged"}});
  Run({"apply", "--server-side", "-f", manifest}, {0, {"deployment.apps/web2 serverside-applied"}});
  sim_->AdvanceClock(absl::Seconds(30));
  Run({"rollout", "status", "deployment/web2", "--timeout=10s"},
      {0, {"deployment \"web2\" successfully rolled out"}});
  Run({"wait", "--for=condition=Available", "deployment/web2", "--timeout=10s"},
      {0, {"deployment.apps/web2 condition met"}});
  Run({"get", "pods", "-l", "app=web2"}, {0, {"NAME", "READY", "1/1", "Running"}});
  Run({"get", "pods", "-l", "app=web2", "-o", "wide"}, {0, {"IP", "NODE", "node-a"}});
  Run({"get", "deployment", "web2"}, {0, {"NAME   READY   UP-TO-DATE   AVAILABLE   AGE", "2/2"}});
  Run({"logs", "deployment/web2"}, {0, {"nginx: ready"}});
  Run({"set", "image", "deployment/web2", "web=nginx:1.28"},
      {0, {"deployment.apps/web2 image updated"}});
  // The manual clock runs the controllers only when advanced; a real cluster rolls out each
  // template change at once, so each one gets its own revision.
  sim_->AdvanceClock(absl::Seconds(1));
  Run({"set", "env", "deployment/web2", "MODE=fast"}, {0, {"deployment.apps/web2 env updated"}});
  sim_->AdvanceClock(absl::Seconds(1));
  Run({"set", "resources", "deployment/web2", "--limits=memory=128Mi"},
      {0, {"deployment.apps/web2 resource requirements updated"}});
  sim_->AdvanceClock(absl::Seconds(60));
  Run({"rollout", "history", "deployment/web2"}, {0, {"REVISION  CHANGE-CAUSE", "1 ", "4 "}});
  Run({"rollout", "undo", "deployment/web2"}, {0, {"deployment.apps/web2 rolled back"}});
  Run({"rollout", "restart", "deployment/web2"}, {0, {"deployment.apps/web2 restarted"}});
  sim_->AdvanceClock(absl::Seconds(60));
  Run({"scale", "deployment/web2", "--replicas=3"}, {0, {"deployment.apps/web2 scaled"}});
  Run({"patch", "deployment", "web2", "-p", R"({"spec":{"minReadySeconds":1}})"},
      {0, {"deployment.apps/web2 patched"}});
  Run({"patch", "deployment", "web2", "-p", R"({"spec":{"minReadySeconds":1}})"},
      {0, {"deployment.apps/web2 patched (no change)"}});
  Run({"patch", "deployment", "web2", "--type=merge", "-p", R"({"metadata":{"labels":{"m":"1"}}})"},
      {0, {"deployment.apps/web2 patched"}});
  Run({"patch", "deployment", "web2", "--type=json", "-p",
       R"([{"op":"replace","path":"/spec/minReadySeconds","value":2}])"},
      {0, {"deployment.apps/web2 patched"}});
  Run({"label", "deployment", "web2", "tier=frontend"}, {0, {"deployment.apps/web2 labeled"}});
  Run({"annotate", "deployment", "web2", "owner=team-a"}, {0, {"deployment.apps/web2 annotated"}});
  Run({"get", "deployment", "web2", "-o", "jsonpath={.spec.replicas} {.metadata.labels.tier}"},
      {0, {}, "3 frontend"});
  std::string json_out =
      Run({"get", "deployment", "web2", "-o", "json"}, {0, {"\"kind\": \"Deployment\""}});
  EXPECT_EQ(json::parse(json_out, nullptr, false).value("kind", ""), "Deployment");
  Run({"get", "deployment", "web2", "-o", "yaml"}, {0, {"kind: Deployment", "  replicas: 3"}});
  Run({"get", "deployment", "web2", "-o", "name"}, {0, {}, "deployment.apps/web2\n"});
  Run({"get", "deployment", "web2", "-o",
       "custom-columns=NAME:.metadata.name,IMAGE:.spec.template.spec.containers[0].image"},
      {0, {}, R"(NAME\s+IMAGE\nweb2\s+nginx:1\.2\d\n)"});
  Run({"get", "events", "--sort-by=.lastTimestamp"},
      {0, {"LAST SEEN   TYPE     REASON", "ScalingReplicaSet"}});
  Run({"get", "events", "--field-selector", "reason=Scheduled"}, {0, {"Successfully assigned"}});
  Run({"get", "events", "--field-selector", "involvedObject.kind=Deployment", "-o",
       "jsonpath={.items[0].involvedObject.name}"},
      {0, {}, "web2"});
  Run({"delete", "deployment", "web2"}, {0, {"deployment.apps \"web2\" deleted"}});
  Run({"get", "deployment", "web2"},
      {1, {"Error from server (NotFound): deployments.apps \"web2\" not found"}});
}

TEST_F(ConformanceTest, AuthCanIAnswersFromRbacBindings) {
  Run({"create", "serviceaccount", "builder"}, {0, {"serviceaccount/builder created"}});
  Run({"create", "role", "reader", "--verb=get,list,watch", "--resource=pods"},
      {0, {"role.rbac.authorization.k8s.io/reader created"}});
  Run({"create", "rolebinding", "read", "--role=reader", "--user=alice",
       "--serviceaccount=demo:builder"},
      {0, {"rolebinding.rbac.authorization.k8s.io/read created"}});
  Run({"auth", "can-i", "list", "pods", "--as=alice"}, {0, {}, "yes\n"});
  Run({"auth", "can-i", "delete", "pods", "--as=alice"}, {1, {}, "no\n"});
  Run({"auth", "can-i", "list", "pods", "-n", "default", "--as=alice"}, {1, {}, "no\n"});
  Run({"auth", "can-i", "get", "pods", "--as=system:serviceaccount:demo:builder"},
      {0, {}, "yes\n"});
  Run({"auth", "can-i", "get", "secrets", "--as=system:serviceaccount:demo:builder"},
      {1, {}, "no\n"});
  Run({"auth", "can-i", "delete", "nodes"}, {0, {}, "yes\n"});  // the admin kubeconfig
  Run({"auth", "can-i", "--list", "--as=alice"}, {0, {"pods", "[get list watch]"}});
  Run({"get", "pods", "--as=alice"}, {0, {}});
  Run({"get", "secrets", "--as=alice"},
      {1,
       {"Error from server (Forbidden): secrets is forbidden: User \"alice\" cannot list "
        "resource \"secrets\" in API group \"\" in the namespace \"demo\""}});
  Run({"auth", "whoami", "--as=alice"}, {0, {"Username", "alice"}});
  Run({"create", "clusterrolebinding", "alice-view", "--clusterrole=view", "--user=alice"},
      {0, {"clusterrolebinding.rbac.authorization.k8s.io/alice-view created"}});
  Run({"auth", "can-i", "list", "deployments.apps", "-n", "default", "--as=alice"},
      {0, {}, "yes\n"});
}

TEST_F(ConformanceTest, ClaimsBindOrKeepPodsPendingAndServicesGetEndpoints) {
  Run({"apply", "-f", File("storage.yaml", kStorage)},
      {0, {"persistentvolumeclaim/data created", "pod/uses-missing created"}});
  Run({"create", "deployment", "web", "--image=nginx:1.27", "--replicas=2", "--port=80"},
      {0, {"deployment.apps/web created"}});
  Run({"expose", "deployment", "web", "--port=80"}, {0, {"service/web exposed"}});
  Run({"create", "service", "clusterip", "nobody", "--tcp=80:80"}, {0, {"service/nobody created"}});
  Run({"create", "poddisruptionbudget", "web", "--selector=app=web", "--min-available=1"},
      {0, {"poddisruptionbudget.policy/web created"}});
  Run({"create", "quota", "q", "--hard=pods=10,requests.storage=5Gi"},
      {0, {"resourcequota/q created"}});
  sim_->AdvanceClock(absl::Seconds(30));
  Run({"wait", "--for=jsonpath={.status.phase}=Bound", "pvc/data", "--timeout=10s"},
      {0, {"persistentvolumeclaim/data condition met"}});
  Run({"get", "pvc"}, {0,
                       {"NAME   STATUS    VOLUME", "data   Bound     pvc-",
                        "1Gi        RWO            standard", "fast   Pending", "sc"}});
  Run({"get", "pv"}, {0, {"RECLAIM POLICY", "Delete           Bound    demo/data"}});
  Run({"get", "pdb", "web"},
      {0,
       {},
       R"(NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE\nweb\s+1\s+N/A\s+1\s+\S+\n)"});
  Run({"get", "quota", "q"}, {0, {"pods: 5/10, requests.storage: 2Gi/5Gi"}});
  Run({"get", "storageclass"}, {0, {"standard (default)   k8s.io/minikube-hostpath"}});
  Run({"get", "pod", "uses-data", "-o", "jsonpath={.status.phase}"}, {0, {}, "Running"});
  Run({"get", "pod", "uses-fast", "-o", "jsonpath={.status.phase}"}, {0, {}, "Pending"});
  Run({"get", "events", "--field-selector", "involvedObject.name=fast", "-o",
       "jsonpath={.items[0].reason}: {.items[0].message}"},
      {0, {}, R"(ProvisioningFailed: storageclass.storage.k8s.io "sc" not found)"});
  Run({"get", "events", "--field-selector", "involvedObject.name=uses-fast,reason=FailedScheduling",
       "-o", "jsonpath={.items[0].message}"},
      {0,
       {},
       R"(0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims\. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling\.{1,2})"});
  Run({"get", "events", "--field-selector", "involvedObject.name=uses-missing", "-o",
       "jsonpath={.items[0].message}"},
      {0, {"persistentvolumeclaim \"nope\" not found"}});
  Run({"patch", "pvc", "fast", "-p", R"({"spec":{"storageClassName":"standard"}})"},
      {1, {"spec is immutable after creation"}});
  Run({"get", "endpoints", "web"},
      {0, {}, R"(NAME\s+ENDPOINTS\s+AGE\nweb\s+10\.244\.0\.\d+:80,10\.244\.0\.\d+:80\s+\S+\n)"});
  Run({"get", "endpoints", "nobody"},
      {0, {}, R"(NAME\s+ENDPOINTS\s+AGE\nnobody\s+<none>\s+\S+\n)"});
  Run({"get", "endpointslices", "-l", "kubernetes.io/service-name=web", "-o",
       "jsonpath={.items[0].endpoints[*].conditions.ready}"},
      {0, {}, "true true"});
  Run({"delete", "pvc", "fast"}, {0, {"persistentvolumeclaim \"fast\" deleted"}});
}

}  // namespace
}  // namespace remediator::kubesim
