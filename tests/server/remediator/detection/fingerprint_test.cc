#include "server/remediator/core/detection/fingerprint.h"

#include <set>

#include "gtest/gtest.h"

namespace remediator::detection {
namespace {

v1::Detection Make(const std::string& cluster, const std::string& ns, const std::string& kind,
                   const std::string& name, v1::ErrorClass cls) {
  v1::Detection d;
  d.set_error_class(cls);
  d.mutable_workload()->set_cluster(cluster);
  d.mutable_workload()->set_namespace_(ns);
  d.mutable_workload()->set_kind(kind);
  d.mutable_workload()->set_name(name);
  return d;
}

TEST(FingerprintTest, StableAndIndependentOfPodContainerAndText) {
  v1::Detection a = Make("", "shop", "Deployment", "web", v1::ERROR_CLASS_OOM_KILLED);
  v1::Detection b = a;
  b.mutable_workload()->set_pod("web-abc-123");
  b.mutable_workload()->set_container("nginx");
  b.set_reason("OOMKilled");
  b.set_summary("other words");
  EXPECT_EQ(Fingerprint(a), Fingerprint(b));
  EXPECT_EQ(Fingerprint(a), Fingerprint(a.workload(), a.error_class()));
  // Pinned value: FNV-1a 64 of "\x1fshop\x1fDeployment\x1fweb\x1fERROR_CLASS_OOM_KILLED".
  // Computed independently (Python) from the documented definition.
  EXPECT_EQ(Fingerprint(a), "76f333d5b8a4434b");
}

TEST(FingerprintTest, EachKeyFieldChangesIt) {
  std::set<std::string> seen = {
      Fingerprint(Make("", "shop", "Deployment", "web", v1::ERROR_CLASS_OOM_KILLED)),
      Fingerprint(Make("prod", "shop", "Deployment", "web", v1::ERROR_CLASS_OOM_KILLED)),
      Fingerprint(Make("", "shop2", "Deployment", "web", v1::ERROR_CLASS_OOM_KILLED)),
      Fingerprint(Make("", "shop", "StatefulSet", "web", v1::ERROR_CLASS_OOM_KILLED)),
      Fingerprint(Make("", "shop", "Deployment", "web2", v1::ERROR_CLASS_OOM_KILLED)),
      Fingerprint(Make("", "shop", "Deployment", "web", v1::ERROR_CLASS_CRASH_LOOP)),
      // Field boundaries matter: "a/bc" differs from "ab/c".
      Fingerprint(Make("", "ab", "Deployment", "c", v1::ERROR_CLASS_OOM_KILLED)),
      Fingerprint(Make("", "a", "Deployment", "bc", v1::ERROR_CLASS_OOM_KILLED)),
  };
  EXPECT_EQ(seen.size(), 8u);
}

TEST(FingerprintTest, SeverityByClass) {
  EXPECT_EQ(SeverityForClass(v1::ERROR_CLASS_OOM_KILLED), "critical");
  EXPECT_EQ(SeverityForClass(v1::ERROR_CLASS_IMAGE_PULL), "critical");
  EXPECT_EQ(SeverityForClass(v1::ERROR_CLASS_ADMISSION_REJECTED), "critical");
  EXPECT_EQ(SeverityForClass(v1::ERROR_CLASS_PROBE_FAILURE), "high");
  EXPECT_EQ(SeverityForClass(v1::ERROR_CLASS_APP_ERROR_LOG), "high");
  EXPECT_EQ(SeverityForClass(v1::ERROR_CLASS_NONE), "low");
  EXPECT_EQ(SeverityForClass(v1::ERROR_CLASS_UNSPECIFIED), "low");
}

}  // namespace
}  // namespace remediator::detection
