// The broken-workload corpus: every file in scenarios/ is a kubesim world plus the revisions of
// one workload (the last one broken), as platform teams meet them. For each scenario the test
// runs what production runs: kubesim produces the failure with the real messages, every pod,
// event and container log goes through the real Detector into the store, the fixable incidents
// of the workload are handed to the engine with the playbooks alone (no model), and the fix
// must be verified on the cluster by the named playbook — with none of the anti-fixes (a limit
// or probe removed, replicas 0, the image moved to another repository, a container removed).
// Scenarios marked `expect: escalate` must end with nothing applied.
//
// Scenario file format (YAML):
//   name: oom-classic
//   description: ...
//   world: |              # kubesim world (server/kubesim/world.h), without the workload
//   revisions:            # applied in order; the workload's last revision is the broken one
//   - <manifest>
//   workload: {kind: Deployment, name: web, container: web}   # namespace: app
//   expect: fix | escalate
//   playbook: oom-raise-memory   # the strategy that must fix it (expect: fix)
//   changed: [spec.template.spec.containers[name=web].resources.limits.memory]  # at least these
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "server/remediator/core/detector_classifier.h"
#include "server/remediator/core/ingestor.h"
#include "server/remediator/core/manifest/yaml_text_edit.h"
#include "server/remediator/core/remediation/guard.h"
#include "tests/server/remediator/remediation/engine_harness.h"

namespace remediator::remediation {
namespace {

using ::testing::HasSubstr;

struct Scenario {
  std::string file;
  std::string name;
  std::string world;
  std::vector<json> revisions;
  json workload;
  std::string expect;
  std::string playbook;
  std::vector<std::string> changed;
};

std::vector<Scenario> LoadScenarios() {
  std::vector<Scenario> out;
  const std::filesystem::path dir = REMEDIATOR_SCENARIO_DIR;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    auto docs = manifest::ParseYamlDocuments(text.str());
    if (!docs.ok() || docs->size() != 1) {
      ADD_FAILURE() << path << ": not one YAML document";
      continue;
    }
    const json& d = (*docs)[0];
    Scenario s;
    s.file = path.filename().string();
    s.name = d.value("name", s.file);
    s.world = d.value("world", "");
    for (const json& r : d.value("revisions", json::array())) s.revisions.push_back(r);
    s.workload = d.value("workload", json::object());
    s.expect = d.value("expect", "fix");
    s.playbook = d.value("playbook", "");
    for (const json& c : d.value("changed", json::array())) s.changed.push_back(c);
    out.push_back(std::move(s));
  }
  return out;
}

const std::vector<Scenario>& Scenarios() {
  static const auto* scenarios = new std::vector<Scenario>(LoadScenarios());
  return *scenarios;
}

std::string Resource(const std::string& kind) {
  if (kind == "Deployment") return "deployments";
  if (kind == "StatefulSet") return "statefulsets";
  if (kind == "CronJob") return "cronjobs";
  if (kind == "DaemonSet") return "daemonsets";
  return "";
}

// What no fix may do, whatever the playbook: checked on the live object before and after.
void ExpectNoAntiFix(const json& before, const json& after) {
  const std::string prefix = PodSpecPrefix(before.value("kind", ""));
  const json::json_pointer pod("/" + absl::StrReplaceAll(prefix, {{".", "/"}}));
  if (before.contains("spec") && before["spec"].contains("replicas")) {
    EXPECT_GE(after["spec"].value("replicas", 1), 1) << "anti-fix: scaled to zero";
  }
  const json& pb = before.at(pod);
  const json& pa = after.at(pod);
  for (const json& c : pb.value("containers", json::array())) {
    const json* now = nullptr;
    const json& containers = pa.at("containers");
    for (const json& n : containers) {
      if (n.value("name", "") == c.value("name", "")) now = &n;
    }
    ASSERT_NE(now, nullptr) << "anti-fix: container " << c.value("name", "") << " removed";
    for (const char* probe : {"livenessProbe", "readinessProbe", "startupProbe"}) {
      if (c.contains(probe)) {
        EXPECT_TRUE(now->contains(probe)) << "anti-fix: " << probe << " removed";
      }
    }
    if (c.contains("resources") && c["resources"].contains("limits")) {
      for (auto it = c["resources"]["limits"].begin(); it != c["resources"]["limits"].end(); ++it) {
        EXPECT_TRUE(now->contains("resources") && (*now)["resources"].contains("limits") &&
                    (*now)["resources"]["limits"].contains(it.key()))
            << "anti-fix: limit " << it.key() << " removed";
      }
    }
    EXPECT_EQ(ImageRepository(c.value("image", "")), ImageRepository(now->value("image", "")))
        << "anti-fix: image moved to another repository";
    const json sc = now->value("securityContext", json::object());
    EXPECT_FALSE(sc.value("privileged", false)) << "anti-fix: privileged";
  }
  EXPECT_FALSE(pa.value("hostNetwork", false)) << "anti-fix: hostNetwork";
}

class ScenarioCorpusTest : public EngineHarness, public ::testing::WithParamInterface<size_t> {
 protected:
  std::string World() const override { return Scenarios()[GetParam()].world; }

  // Every pod, event and container log of the namespace through the real Detector.
  void Detect(Ingestor& ingestor) {
    google::protobuf::RepeatedPtrField<v1::Observation> observations;
    auto pods = sim_->List("pods", "app", "");
    ASSERT_THAT(pods, IsOk());
    for (const json& pod : *pods) {
      observations.Add()->set_pod_json(pod.dump());
      const std::string name = pod["metadata"].value("name", "");
      for (const json& c : pod["spec"].value("containers", json::array())) {
        for (bool previous : {true, false}) {
          auto logs = sim_->Logs("app", name, c.value("name", ""), previous);
          if (!logs.ok() || logs->empty()) continue;
          v1::Observation* o = observations.Add();
          o->mutable_pod_log()->set_namespace_("app");
          o->mutable_pod_log()->set_pod(name);
          o->mutable_pod_log()->set_container(c.value("name", ""));
          o->mutable_pod_log()->set_previous(previous);
          o->mutable_pod_log()->set_text(*logs);
        }
      }
    }
    auto events = sim_->List("events", "app", "");
    ASSERT_THAT(events, IsOk());
    for (const json& e : *events) observations.Add()->set_event_json(e.dump());
    ASSERT_THAT(ingestor.Ingest(observations), IsOk());
  }
};

TEST_P(ScenarioCorpusTest, FixedByAPlaybookWithoutAntiFix) {
  const Scenario& s = Scenarios()[GetParam()];
  SCOPED_TRACE(s.file);
  for (const json& revision : s.revisions) {
    ASSERT_THAT(sim_->Apply(revision.dump()), IsOk()) << revision.dump();
    sim_->AdvanceClock(absl::Seconds(30));
  }
  sim_->AdvanceClock(absl::Seconds(90));
  const std::string kind = s.workload.value("kind", "Deployment");
  const std::string name = s.workload.value("name", "");
  auto before = sim_->Get(Resource(kind), "app", name);
  ASSERT_THAT(before, IsOk());

  auto classifier = MakeDetectorClassifier();
  ASSERT_THAT(classifier, IsOk());
  Ingestor ingestor(**classifier, *store_, *clock_);
  Detect(ingestor);

  IncidentFilter filter;
  filter.page_size = 1000;
  auto page = store_->ListIncidents(filter);
  ASSERT_THAT(page, IsOk());
  std::vector<v1::Incident> mine;
  for (const v1::Incident& incident : page->incidents) {
    if (incident.workload().name() == name && incident.workload().kind() == kind) {
      mine.push_back(incident);
    }
  }
  ASSERT_FALSE(mine.empty()) << "the failure of " << name << " was not detected";

  auto engine = MakeEngine();
  std::vector<std::string> tried;
  std::optional<v1::FixAttempt> verified;
  for (const v1::Incident& incident : mine) {
    if (!incident.fixable_by_manifest()) continue;
    v1::AttemptFixRequest request;
    request.set_incident_id(incident.id());
    auto attempt = engine->AttemptFix(request);
    if (!attempt.ok()) {
      tried.push_back(absl::StrCat(v1::ErrorClass_Name(incident.error_class()),
                                   ": not started: ", attempt.status().ToString()));
      continue;
    }
    tried.push_back(absl::StrCat(v1::ErrorClass_Name(incident.error_class()), ": ",
                                 v1::FixStatus_Name(attempt->status()), " ", attempt->strategy(),
                                 " ", attempt->error(), attempt->rollback_reason()));
    if (attempt->status() == v1::FIX_STATUS_VERIFIED) {
      verified = *attempt;
      break;
    }
  }
  std::string summary;
  for (const auto& t : tried) summary += t + "\n";
  auto after = sim_->Get(Resource(kind), "app", name);
  ASSERT_THAT(after, IsOk());
  if (s.expect == "escalate") {
    EXPECT_FALSE(verified.has_value()) << summary;
    EXPECT_EQ((*after)["spec"], (*before)["spec"]) << "nothing may be applied\n" << summary;
    return;
  }
  if (!verified.has_value() && getenv("SCENARIO_DEBUG") != nullptr) {
    for (const v1::Incident& i : mine) std::cerr << "incident: " << i.ShortDebugString() << "\n";
    for (const char* resource : {"replicasets", "pods"}) {
      auto items = sim_->List(resource, "app", "");
      if (!items.ok()) continue;
      for (const json& i : *items) std::cerr << resource << ": " << i.dump() << "\n";
    }
    std::cerr << "deployment: " << after->dump() << "\n";
  }
  ASSERT_TRUE(verified.has_value()) << "not fixed:\n" << summary;
  EXPECT_EQ(verified->strategy(), "playbook/" + s.playbook) << summary;
  std::vector<std::string> paths;
  for (const auto& c : verified->changes()) paths.push_back(c.path());
  for (const std::string& wanted : s.changed) {
    EXPECT_THAT(paths, ::testing::Contains(wanted)) << verified->DebugString();
  }
  ExpectNoAntiFix(*before, *after);
}

INSTANTIATE_TEST_SUITE_P(Corpus, ScenarioCorpusTest,
                         ::testing::Range<size_t>(0, Scenarios().size()),
                         [](const ::testing::TestParamInfo<size_t>& info) {
                           std::string name = Scenarios()[info.param].name;
                           for (char& c : name) {
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace remediator::remediation
