// A remediation engine against a simulated cluster (kubesim, in process, manual clock) through
// the real Kubernetes client and a real SQLite store: real applies, real rollouts, real
// rollbacks. The engine's clock is the simulator's, so a 60-second verification window takes
// milliseconds and no test sleeps. Tests derive from EngineHarness and give their world.
#ifndef REMEDIATOR_TESTS_SERVER_REMEDIATOR_REMEDIATION_ENGINE_HARNESS_H_
#define REMEDIATOR_TESTS_SERVER_REMEDIATOR_REMEDIATION_ENGINE_HARNESS_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "server/kubesim/kubesim.h"
#include "server/remediator/adapters/kube/kube_api_cluster.h"
#include "server/remediator/adapters/sqlite_incident_store.h"
#include "server/remediator/core/remediation/engine.h"
#include "server/remediator/core/remediation/playbooks/playbook_strategy.h"
#include "tests/testing/status_matchers.h"

namespace remediator::remediation {

using ::remediator::testing::IsOk;
using json = nlohmann::json;

// The simulator's time, moved by the engine's waits.
class SimClock final : public Clock {
 public:
  explicit SimClock(kubesim::KubeSim& sim) : sim_(sim) {}
  absl::Time Now() const override { return sim_.Now(); }
  void SleepFor(absl::Duration d) override { sim_.AdvanceClock(d); }

 private:
  kubesim::KubeSim& sim_;
};

class FixedManifests final : public ManifestSource {
 public:
  absl::StatusOr<ManifestRecord> Find(const v1::WorkloadRef& workload) override {
    auto it = records.find(workload.name());
    if (it == records.end()) return absl::NotFoundError("not in the repository");
    return it->second;
  }
  std::map<std::string, ManifestRecord> records;
};

class EngineHarness : public ::testing::Test {
 protected:
  // The world the simulator starts with (kubesim's world format).
  virtual std::string World() const = 0;

  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("engine_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    kubesim::KubeSimOptions options;
    options.world_yaml = World();
    options.manual_clock = true;
    auto sim = kubesim::KubeSim::Start(options);
    ASSERT_THAT(sim, IsOk());
    sim_ = *std::move(sim);
    ASSERT_THAT(sim_->WriteKubeconfig((dir_ / "kubeconfig").string()), IsOk());
    kube::KubeconfigOptions kubeconfig;
    kubeconfig.explicit_path = (dir_ / "kubeconfig").string();
    auto cluster = kube::KubeApiCluster::FromKubeconfig(kubeconfig);
    ASSERT_THAT(cluster, IsOk());
    cluster_ = *std::move(cluster);
    auto store = SqliteIncidentStore::Open((dir_ / "r.db").string());
    ASSERT_THAT(store, IsOk());
    store_ = *std::move(store);
    clock_ = std::make_unique<SimClock>(*sim_);
    options_.verify_window = absl::Seconds(60);
    options_.poll_interval = absl::Seconds(5);
    options_.rollout_timeout = absl::Minutes(5);
  }
  void TearDown() override {
    engine_.reset();
    cluster_.reset();
    sim_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<RemediationEngine> MakeEngine(ManifestSource* manifests = nullptr,
                                                std::vector<FixStrategy*> strategies = {}) {
    if (strategies.empty()) strategies = {&playbooks_};
    return std::make_unique<RemediationEngine>(*store_, *cluster_, manifests, strategies, guard_,
                                               *clock_, options_);
  }

  void Deploy(const json& deployment) {
    ASSERT_THAT(sim_->Apply(deployment.dump()), IsOk());
    sim_->AdvanceClock(absl::Seconds(40));
  }

  std::string Incident(const std::string& name, v1::ErrorClass error_class,
                       const std::string& summary = "test incident") {
    DetectionToRecord r;
    r.detection.set_error_class(error_class);
    r.detection.mutable_workload()->set_namespace_("app");
    r.detection.mutable_workload()->set_kind("Deployment");
    r.detection.mutable_workload()->set_name(name);
    r.detection.mutable_workload()->set_container(name);
    r.detection.set_reason("test");
    r.detection.set_summary(summary);
    r.fingerprint = name + "/" + std::to_string(error_class);
    r.seen = sim_->Now();
    auto recorded = store_->RecordDetections({r});
    EXPECT_THAT(recorded, IsOk());
    return recorded.ok() ? (*recorded)[0].incident.id() : "";
  }

  json Live(const std::string& name) {
    auto d = sim_->Get("deployments", "app", name);
    EXPECT_THAT(d, IsOk());
    return d.value_or(json());
  }
  static std::string Memory(const json& d) {
    return d["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"];
  }
  v1::IncidentState State(const std::string& id) {
    auto incident = store_->GetIncident(id);
    return incident.ok() ? incident->state() : v1::INCIDENT_STATE_UNSPECIFIED;
  }

  std::filesystem::path dir_;
  std::unique_ptr<kubesim::KubeSim> sim_;
  std::unique_ptr<kube::KubeApiCluster> cluster_;
  std::unique_ptr<SqliteIncidentStore> store_;
  std::unique_ptr<SimClock> clock_;
  PlaybookStrategy playbooks_;
  Guard guard_;
  EngineOptions options_;
  std::unique_ptr<RemediationEngine> engine_;
};

}  // namespace remediator::remediation

#endif  // REMEDIATOR_TESTS_SERVER_REMEDIATOR_REMEDIATION_ENGINE_HARNESS_H_
