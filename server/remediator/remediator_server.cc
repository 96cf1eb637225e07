#include "server/remediator/remediator_server.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "server/common/auth.h"
#include "server/common/file_util.h"
#include "server/common/logging.h"
#include "server/common/status_macros.h"
#include "server/common/tls_client.h"
#include "server/remediator/adapters/git/forge_factory.h"
#include "server/remediator/adapters/git/libgit2_repository.h"
#include "server/remediator/adapters/kube/kube_api_cluster.h"
#include "server/remediator/adapters/llm/openai_compatible_llm.h"
#include "server/remediator/adapters/postgres/incident_store_factory.h"
#include "server/remediator/adapters/telephony_grpc_phone.h"
#include "server/remediator/core/detector_classifier.h"
#include "server/remediator/core/pr/repository_manifest_source.h"
#include "server/remediator/core/remediation/llm_strategy.h"
#include "server/remediator/core/remediation/playbooks/playbook_strategy.h"
#include "server/remediator/service/counting_incident_store.h"

namespace remediator {

absl::StatusOr<std::unique_ptr<RemediatorServer>> RemediatorServer::Start(
    const RemediatorConfig& config, Clock& clock) {
  auto server = std::unique_ptr<RemediatorServer>(new RemediatorServer());
  remediation::ModePolicy modes;
  ASSIGN_OR_RETURN(modes.mode, remediation::ParseMode(config.mode));
  for (const auto& [ns, mode] : config.namespace_modes) {
    ASSIGN_OR_RETURN(modes.namespaces[ns], remediation::ParseMode(mode));
  }
  ASSIGN_OR_RETURN(server->rpc_guard_,
                   RpcGuardFromTokenFiles(config.auth_token_file, config.viewer_token_file,
                                          config.reporter_token_file));
  RETURN_IF_ERROR(MakeDirectories(config.state_dir));
  ASSIGN_OR_RETURN(server->backing_store_, OpenIncidentStore(config.store, config.state_dir));
  server->store_ =
      std::make_unique<CountingIncidentStore>(*server->backing_store_, server->registry_);
  server->metrics_ =
      std::make_unique<RemediatorMetrics>(server->registry_, *server->store_, server->rpc_guard_);
  server->rpc_guard_.SetObserver(
      [metrics = server->metrics_.get()](std::string_view method, grpc::StatusCode code) {
        metrics->CountRpc(method, code);
      });
  ASSIGN_OR_RETURN(server->classifier_, MakeDetectorClassifier());
  server->ingestor_ = std::make_unique<Ingestor>(*server->classifier_, *server->store_, clock);
  if (!config.telephony.empty()) {
    std::string token;
    if (!config.telephony_token_file.empty()) {
      ASSIGN_OR_RETURN(token, ReadTokenFile(config.telephony_token_file));
    }
    ASSIGN_OR_RETURN(std::shared_ptr<grpc::Channel> channel,
                     MakeChannel(config.telephony, config.telephony_tls));
    server->phone_ = std::make_unique<TelephonyGrpcPhone>(
        telephony::v1::Telephony::NewStub(channel), std::move(token));
  }
  server->http_ = NewCurlHttpClient();

  // The cluster: --kubeconfig, else $KUBECONFIG. Without one the server detects what is
  // reported to it but cannot fix anything.
  const char* kubeconfig_env = std::getenv("KUBECONFIG");
  if (!config.kubeconfig.empty() || (kubeconfig_env != nullptr && *kubeconfig_env != '\0')) {
    kube::KubeconfigOptions kubeconfig;
    kubeconfig.explicit_path = config.kubeconfig;
    kubeconfig.context = config.context;
    ASSIGN_OR_RETURN(server->cluster_, kube::KubeApiCluster::FromKubeconfig(kubeconfig, clock));
  }

  // The GitOps repository and the forge pull requests go to.
  if (!config.gitops_repo.empty()) {
    std::string token;
    if (!config.gitops_token_file.empty()) {
      ASSIGN_OR_RETURN(token, ReadTokenFile(config.gitops_token_file));
    }
    git::Libgit2RepositoryOptions repo;
    repo.remote_url = config.gitops_repo;
    repo.local_path = absl::StrCat(config.state_dir, "/gitops.git");
    repo.https_token = token;
    ASSIGN_OR_RETURN(auto repository, git::Libgit2Repository::Open(repo));
    server->repository_ = std::move(repository);
    git::ForgeSettings forge;
    forge.kind = config.gitops_forge;
    forge.api_url = config.gitops_api_url;
    forge.repository = config.gitops_repository;
    forge.token = token;
    ASSIGN_OR_RETURN(server->forge_, git::NewForge(forge, *server->http_, clock, *server->store_,
                                                   *server->repository_));
    pr::PullRequestOpenerOptions opener;
    opener.base_branch = config.gitops_branch;
    opener.author = {config.gitops_author_name, config.gitops_author_email};
    server->opener_ = std::make_unique<pr::PullRequestOpener>(*server->store_, *server->repository_,
                                                              *server->forge_, clock, opener);
    pr::ManifestLocatorOptions locator;
    locator.branch = config.gitops_branch;
    server->manifests_ =
        std::make_unique<pr::RepositoryManifestSource>(*server->repository_, locator);
  }

  if (server->cluster_ != nullptr) {
    server->strategies_.push_back(std::make_unique<remediation::PlaybookStrategy>());
    if (!config.llm_url.empty()) {
      llm::OpenAiCompatibleLlmOptions llm;
      llm.base_url = config.llm_url;
      llm.model = config.llm_model;
      llm.api_key_file = config.llm_api_key_file;
      ASSIGN_OR_RETURN(auto client, llm::OpenAiCompatibleLlm::Create(llm, clock));
      remediation::LlmStrategyOptions strategy;
      strategy.model = config.llm_model;
      server->strategies_.push_back(
          std::make_unique<remediation::LlmStrategy>(std::move(client), strategy));
    }
    std::vector<remediation::FixStrategy*> strategies;
    for (auto& s : server->strategies_) strategies.push_back(s.get());
    server->guard_ = remediation::Guard(config.guard);
    remediation::EngineOptions engine;
    engine.modes = modes;
    engine.verify_window = config.verify_window;
    engine.rollout_timeout = config.rollout_timeout;
    engine.poll_interval = config.poll_interval;
    server->engine_ = std::make_unique<remediation::RemediationEngine>(
        *server->store_, *server->cluster_, server->manifests_.get(), std::move(strategies),
        server->guard_, clock, engine);
    // An attempt a crash interrupted is verified again or rolled back. Its workload is reserved
    // now, before the pipeline starts, so that nothing else starts on it meanwhile.
    ASSIGN_OR_RETURN(std::vector<std::string> interrupted, server->engine_->ReserveInterrupted());
    server->resume_thread_ = std::thread([engine = server->engine_.get(), interrupted] {
      absl::Status resumed = engine->ResumeReserved(interrupted);
      if (!resumed.ok()) {
        LogError("cannot resume interrupted fix attempts",
                 {{"error", std::string(resumed.message())}});
      }
    });
    WatchSourceOptions watch;
    watch.cluster_name = config.cluster_name;
    watch.namespaces = config.namespaces;
    server->watch_source_ =
        std::make_unique<WatchSource>(*server->cluster_, *server->ingestor_, clock, watch);
    RETURN_IF_ERROR(server->watch_source_->Start());
  }

  if (!config.oncall.empty()) {
    ASSIGN_OR_RETURN(oncall::OnCallPolicy policy, oncall::LoadOnCallPolicy(config.oncall));
    server->oncall_ = std::make_unique<oncall::OnCallPolicy>(std::move(policy));
    if (server->phone_ != nullptr) {
      server->escalator_ = std::make_unique<oncall::Escalator>(*server->store_, *server->phone_,
                                                               *server->oncall_, clock);
    }
  }
  if (!config.loki_url.empty()) {
    LokiSourceOptions loki;
    loki.name = config.loki_name;
    loki.base_url = config.loki_url;
    loki.query = config.loki_query;
    loki.tenant = config.loki_tenant;
    loki.cluster = config.cluster_name;
    loki.poll_interval = config.loki_poll_interval;
    loki.namespace_label = config.loki_namespace_label;
    loki.pod_label = config.loki_pod_label;
    loki.container_label = config.loki_container_label;
    if (!config.loki_token_file.empty()) {
      ASSIGN_OR_RETURN(loki.bearer_token, ReadTokenFile(config.loki_token_file));
    }
    ASSIGN_OR_RETURN(server->loki_, LokiSource::Create(loki, *server->http_, *server->ingestor_,
                                                       *server->store_, clock));
    server->loki_thread_ =
        std::thread([server = server.get()] { server->loki_->Run(server->loki_stop_); });
  }
  PipelineOptions pipeline;
  pipeline.modes = modes;
  pipeline.interval = config.pipeline_interval;
  pipeline.fix_threads = config.parallel_fixes;
  server->pipeline_ =
      std::make_unique<Pipeline>(*server->store_, server->engine_.get(), server->opener_.get(),
                                 server->escalator_.get(), clock, pipeline);
  // New failures wake the pipeline at once instead of at its next interval.
  server->ingestor_->OnRecorded([pipeline = server->pipeline_.get()] { pipeline->Wake(); });

  RemediatorService::Capabilities capabilities;
  capabilities.oncall = server->oncall_.get();
  capabilities.phone = server->phone_.get();
  capabilities.engine = server->engine_.get();
  capabilities.pull_requests = server->opener_.get();
  capabilities.metrics = server->metrics_.get();
  server->service_ = std::make_unique<RemediatorService>(server->rpc_guard_, *server->ingestor_,
                                                         *server->store_, capabilities, clock);
  ASSIGN_OR_RETURN(server->grpc_server_, GrpcServer::Start(config.server, {server->service_.get()},
                                                           {"remediator.v1.Remediator"}));
  if (!config.metrics_listen.empty()) {
    ASSIGN_OR_RETURN(server->metrics_server_,
                     metrics::MetricsServer::Start(config.metrics_listen, server->registry_));
  }
  if (!config.http_listen.empty()) {
    console::WebConsoleOptions console;
    console.listen = config.http_listen;
    console.audio_dir = config.console_audio_dir;
    ASSIGN_OR_RETURN(server->console_,
                     console::WebConsole::Start(console, *server->store_, server->phone_.get(),
                                                server->rpc_guard_));
  }
  server->pipeline_->Start();
  return server;
}

RemediatorServer::~RemediatorServer() { Shutdown(absl::Seconds(1)); }

void RemediatorServer::Shutdown(absl::Duration grace) {
  // Waits end first (a verification in progress is parked for the next start), then the loop
  // and its lanes stop, then the RPCs.
  if (engine_ != nullptr) engine_->Cancel();
  if (phone_ != nullptr) phone_->CancelAll();
  if (ingestor_ != nullptr) ingestor_->OnRecorded(nullptr);
  if (pipeline_ != nullptr) pipeline_->Stop();
  loki_stop_ = true;
  if (loki_thread_.joinable()) loki_thread_.join();
  if (grpc_server_ != nullptr) grpc_server_->Shutdown(grace);
  metrics_server_.reset();
  console_.reset();
  if (watch_source_ != nullptr) watch_source_->Stop();
  if (resume_thread_.joinable()) resume_thread_.join();
}

}  // namespace remediator
