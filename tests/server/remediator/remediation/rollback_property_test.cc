// Rollback exactness as a property: for random guard-allowed edits of a Deployment that can
// never become healthy (its process needs more memory than any allowed limit), the engine
// applies the edit, verification fails, and after the rollback the live Deployment's spec is
// exactly what it was before the fix — fields the fix created (a probe handler, an env entry, a
// volume and its mount, a nodeSelector) are gone again, not left empty.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "server/remediator/core/manifest/field_path.h"
#include "tests/server/remediator/remediation/engine_harness.h"

namespace remediator::remediation {
namespace {

using ::testing::HasSubstr;

constexpr char kWorld[] = R"(
namespaces: [app]
nodes:
- name: worker-1
  capacity: {cpu: "4", memory: 8Gi, pods: 110}
  labels: {topology.kubernetes.io/zone: zone-a, disktype: ssd}
images:
- name: hog:1
  workingSet: 3Gi
  startupSeconds: 1
  oomAfterSeconds: 2
  serves: [{port: 8080, paths: ["/", "/healthz"]}]
)";

json Hog(const std::string& name) {
  return json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":")" +
                     name + R"(","namespace":"app"},
    "spec":{"replicas":1,"selector":{"matchLabels":{"app":")" +
                     name + R"("}},
      "template":{"metadata":{"labels":{"app":")" +
                     name + R"("}},
        "spec":{"containers":[{"name":"hog","image":"hog:1",
          "ports":[{"containerPort":8080}],
          "env":[{"name":"MODE","value":"batch"}],
          "resources":{"limits":{"memory":"256Mi","cpu":"500m"},
                       "requests":{"memory":"128Mi","cpu":"100m"}},
          "livenessProbe":{"httpGet":{"path":"/healthz","port":8080},"timeoutSeconds":1},
          "readinessProbe":{"httpGet":{"path":"/","port":8080}}}]}}}})");
}

manifest::FieldPath P(const std::string& text) {
  auto path = manifest::ParseFieldPath(text);
  EXPECT_TRUE(path.ok()) << text;
  return path.value_or(manifest::FieldPath{});
}

// Proposes a random subset of edits (all of them allowed by the guard), chosen by a seed.
class RandomEdit final : public FixStrategy {
 public:
  explicit RandomEdit(uint32_t seed) : rng_(seed) {}
  std::string name() const override { return "random"; }
  absl::StatusOr<Proposal> Propose(const FixContext&) override {
    const std::string c = "spec.template.spec.containers[name=hog].";
    const std::vector<std::vector<ProposedChange>> pool = {
        {{P(c + "resources.limits.memory"), Pick({"512Mi", "1Gi", "2Gi"}), "memory"}},
        {{P(c + "resources.limits.cpu"), Pick({"1", "750m", "2"}), "cpu"}},
        {{P(c + "livenessProbe.timeoutSeconds"), Pick({3, 5, 10}), "timeout"}},
        {{P(c + "livenessProbe.periodSeconds"), Pick({15, 20}), "created leaf"}},
        {{P(c + "readinessProbe.httpGet.path"), "/healthz", "path"}},
        {{P(c + "readinessProbe.failureThreshold"), Pick({5, 6}), "created leaf"}},
        {{P(c + "startupProbe.httpGet.path"), "/healthz", "created probe"},
         {P(c + "startupProbe.httpGet.port"), 8080, "created probe"}},
        {{P(c + "env[name=CACHE_SIZE].value"), Pick({"64", "128"}), "created env entry"}},
        {{P(c + "env[name=MODE].value"), "stream", "changed env"}},
        {{P("spec.template.spec.volumes[name=scratch].emptyDir.sizeLimit"), "64Mi", "volume"},
         {P(c + "volumeMounts[mountPath=/scratch].name"), "scratch", "mount"}},
        {{P("spec.template.spec.nodeSelector.disktype"), "ssd", "created selector"}},
        {{P("spec.replicas"), 2, "replicas"}},
    };
    Proposal proposal;
    proposal.strategy = "random";
    proposal.explanation = "random guard-allowed edit";
    std::uniform_int_distribution<int> coin(0, 2);
    for (const auto& group : pool) {
      if (coin(rng_) == 0) {
        for (const auto& change : group) proposal.changes.push_back(change);
      }
    }
    if (proposal.changes.empty()) proposal.changes = pool[rng_() % pool.size()];
    return proposal;
  }

 private:
  json Pick(std::initializer_list<json> values) {
    std::vector<json> v(values);
    return v[rng_() % v.size()];
  }
  std::mt19937 rng_;
};

class RollbackPropertyTest : public EngineHarness, public ::testing::WithParamInterface<uint32_t> {
 protected:
  std::string World() const override { return kWorld; }
};

TEST_P(RollbackPropertyTest, RollbackRestoresTheExactSpec) {
  const std::string name = "hog";
  Deploy(Hog(name));
  const json before = Live(name);
  RandomEdit strategy(GetParam());
  const std::string id = Incident(name, v1::ERROR_CLASS_OOM_KILLED);
  auto engine = MakeEngine(nullptr, {&strategy});
  v1::AttemptFixRequest request;
  request.set_incident_id(id);
  auto attempt = engine->AttemptFix(request);
  ASSERT_THAT(attempt, IsOk());
  ASSERT_EQ(attempt->status(), v1::FIX_STATUS_ROLLED_BACK) << attempt->DebugString();
  EXPECT_TRUE(attempt->rolled_back());
  std::string evidence;
  for (const auto& e : attempt->verification_evidence()) evidence += e + "\n";
  EXPECT_THAT(evidence, HasSubstr("rolled back exactly"));
  const json after = Live(name);
  EXPECT_EQ(after["spec"], before["spec"]) << "changes: " << attempt->DebugString();
}

INSTANTIATE_TEST_SUITE_P(Seeds, RollbackPropertyTest, ::testing::Range(1u, 21u));

}  // namespace
}  // namespace remediator::remediation
