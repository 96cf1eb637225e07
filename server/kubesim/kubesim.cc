#include "server/kubesim/kubesim.h"

#include <sys/stat.h>

#include <atomic>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "server/common/file_util.h"
#include "server/common/status_macros.h"
#include "server/kubesim/api_server.h"
#include "server/kubesim/cluster.h"
#include "server/kubesim/k8s_util.h"
#include "server/kubesim/world.h"

namespace remediator::kubesim {

// The background loop that reconciles on the real clock when the simulated clock runs by itself.
class ReconcileLoop {
 public:
  explicit ReconcileLoop(Cluster* cluster) : cluster_(cluster) {
    thread_ = std::thread([this] {
      while (!stop_.WaitForNotificationWithTimeout(absl::Milliseconds(50))) {
        cluster_->Reconcile();
      }
    });
  }
  ~ReconcileLoop() {
    stop_.Notify();
    thread_.join();
  }

 private:
  Cluster* cluster_;
  absl::Notification stop_;
  std::thread thread_;
};

KubeSim::KubeSim() = default;

KubeSim::~KubeSim() { Stop(); }

absl::StatusOr<std::unique_ptr<KubeSim>> KubeSim::Start(const KubeSimOptions& options) {
  World world;
  if (!options.world_file.empty()) {
    ASSIGN_OR_RETURN(world, LoadWorldFile(options.world_file));
  } else if (!options.world_yaml.empty()) {
    ASSIGN_OR_RETURN(world, ParseWorld(options.world_yaml, "<world>"));
  }
  for (const auto& dir : options.manifest_dirs) {
    ASSIGN_OR_RETURN(std::vector<json> objs, LoadManifestDir(dir));
    world.objects.insert(world.objects.end(), objs.begin(), objs.end());
  }
  ClusterOptions copts;
  copts.base_clock = options.clock;
  copts.start_time = options.start_time;
  copts.time_scale = options.time_scale;
  copts.manual_clock = options.manual_clock;
  copts.history_limit = options.history_limit;
  copts.container_log_dir = options.container_log_dir;
  std::unique_ptr<KubeSim> sim(new KubeSim());
  sim->options_ = options;
  ASSIGN_OR_RETURN(sim->cluster_, Cluster::Create(std::move(world), copts));
  sim->cluster_->Reconcile();
  ApiServerOptions aopts;
  aopts.host = options.listen_host;
  aopts.port = options.port;
  aopts.tls_cert_file = options.tls_cert_file;
  aopts.tls_key_file = options.tls_key_file;
  aopts.client_ca_file = options.client_ca_file;
  aopts.token = options.token;
  aopts.watch_expired_as_http_status = options.watch_expired_as_http_status;
  aopts.bookmark_interval = options.bookmark_interval;
  Cluster* cluster = sim->cluster_.get();
  aopts.advance = [cluster](absl::Duration d) { cluster->AdvanceClock(d); };
  ASSIGN_OR_RETURN(sim->server_, ApiServer::Start(cluster, aopts));
  if (!options.manual_clock) {
    sim->loop_ = std::make_unique<ReconcileLoop>(cluster);
  }
  return sim;
}

void KubeSim::Stop() {
  loop_.reset();
  if (server_) server_->Stop();
}

const std::string& KubeSim::host() const { return options_.listen_host; }
int KubeSim::port() const { return server_->port(); }

std::string KubeSim::url() const {
  return absl::StrCat(server_->tls() ? "https://" : "http://", options_.listen_host, ":", port());
}

std::string KubeSim::KubeconfigYaml(const std::string& default_namespace) const {
  std::string cluster = absl::StrCat("    server: ", url(), "\n");
  if (server_->tls()) {
    std::string ca_file =
        options_.tls_ca_file.empty() ? options_.tls_cert_file : options_.tls_ca_file;
    auto ca = ReadFile(ca_file);
    if (ca.ok()) {
      absl::StrAppend(&cluster, "    certificate-authority-data: ", absl::Base64Escape(*ca), "\n");
    }
  }
  std::string user;
  if (!options_.token.empty()) absl::StrAppend(&user, "    token: ", options_.token, "\n");
  if (!options_.kubeconfig_client_cert_file.empty()) {
    auto cert = ReadFile(options_.kubeconfig_client_cert_file);
    auto key = ReadFile(options_.kubeconfig_client_key_file);
    if (cert.ok() && key.ok()) {
      absl::StrAppend(&user, "    client-certificate-data: ", absl::Base64Escape(*cert), "\n",
                      "    client-key-data: ", absl::Base64Escape(*key), "\n");
    }
  }
  if (user.empty()) user = "    {}\n";
  return absl::StrCat("apiVersion: v1\nkind: Config\nclusters:\n- name: kubesim\n  cluster:\n",
                      cluster,
                      "contexts:\n- name: kubesim\n  context:\n    cluster: kubesim\n"
                      "    user: kubesim\n    namespace: ",
                      default_namespace,
                      "\ncurrent-context: kubesim\npreferences: {}\nusers:\n- name: kubesim\n"
                      "  user:\n",
                      user == "    {}\n" ? "    {}\n" : user);
}

absl::Status KubeSim::WriteKubeconfig(const std::string& path,
                                      const std::string& default_namespace) const {
  RETURN_IF_ERROR(WriteFileAtomically(path, KubeconfigYaml(default_namespace)));
  ::chmod(path.c_str(), 0600);
  return absl::OkStatus();
}

void KubeSim::AdvanceClock(absl::Duration d) { cluster_->AdvanceClock(d); }
void KubeSim::Reconcile() { cluster_->Reconcile(); }
absl::Time KubeSim::Now() const { return cluster_->Now(); }
void KubeSim::CompactHistory() { cluster_->store().Compact(); }

absl::Status KubeSim::Apply(const std::string& yaml) {
  ASSIGN_OR_RETURN(std::vector<json> objs, ParseManifests(yaml, "<apply>"));
  for (auto& obj : objs) RETURN_IF_ERROR(cluster_->ApplyManifest(obj));
  cluster_->Reconcile();
  return absl::OkStatus();
}

absl::StatusOr<nlohmann::json> KubeSim::Get(const std::string& resource, const std::string& ns,
                                            const std::string& name) const {
  const ResourceType* type = FindResourceByName(resource);
  if (type == nullptr) return absl::InvalidArgumentError("unknown resource " + resource);
  ASSIGN_OR_RETURN(json obj, cluster_->Get(*type, ns, name));
  obj["apiVersion"] = type->ApiVersion();
  obj["kind"] = type->kind;
  return obj;
}

absl::StatusOr<std::vector<nlohmann::json>> KubeSim::List(const std::string& resource,
                                                          const std::string& ns,
                                                          const std::string& label_selector) const {
  const ResourceType* type = FindResourceByName(resource);
  if (type == nullptr) return absl::InvalidArgumentError("unknown resource " + resource);
  ASSIGN_OR_RETURN(LabelSelector sel, LabelSelector::Parse(label_selector));
  std::vector<json> out;
  for (json obj : cluster_->store().List(StorageResource(*type), ns)) {
    if (!sel.Matches(obj["metadata"].value("labels", json::object()))) continue;
    obj["apiVersion"] = type->ApiVersion();
    obj["kind"] = type->kind;
    out.push_back(std::move(obj));
  }
  return out;
}

absl::Status KubeSim::Delete(const std::string& resource, const std::string& ns,
                             const std::string& name) {
  const ResourceType* type = FindResourceByName(resource);
  if (type == nullptr) return absl::InvalidArgumentError("unknown resource " + resource);
  auto r = cluster_->DeleteObject(*type, ns, name, {});
  if (!r.ok()) return r.status();
  cluster_->Reconcile();
  return absl::OkStatus();
}

absl::StatusOr<std::string> KubeSim::Logs(const std::string& ns, const std::string& pod,
                                          const std::string& container, bool previous) const {
  LogOptions opts;
  opts.container = container;
  opts.previous = previous;
  return cluster_->Logs(ns, pod, opts);
}

int64_t KubeSim::request_count() const { return server_->request_count(); }

}  // namespace remediator::kubesim
