#include "server/remediator/core/detection/workload_resolver.h"

#include "gtest/gtest.h"

namespace remediator::detection {
namespace {

void ExpectName(const WorkloadName& got, const std::string& kind, const std::string& name) {
  EXPECT_EQ(got.kind, kind);
  EXPECT_EQ(got.name, name);
}

TEST(WorkloadResolverTest, PodNames) {
  ExpectName(WorkloadFromPodName("web-xqtqjgsnp8-74x9h"), "Deployment", "web");
  ExpectName(WorkloadFromPodName("order-router-wc7tcxxxlg-ppnkj"), "Deployment", "order-router");
  ExpectName(WorkloadFromPodName("api-7d4b9-x2x9z"), "Deployment", "api");  // 5-char hash
  ExpectName(WorkloadFromPodName("redis-0"), "StatefulSet", "redis");
  ExpectName(WorkloadFromPodName("gitea-postgresql-12"), "StatefulSet", "gitea-postgresql");
  ExpectName(WorkloadFromPodName("backup-28930560-x7k2q"), "CronJob", "backup");
  // DaemonSet / Job pods (<name>-<5>) cannot be told apart by name.
  ExpectName(WorkloadFromPodName("fluentd-x7k2q"), "Pod", "fluentd-x7k2q");
  // Vowels are not in the hash alphabet: "nginx-latest-abcde" is not a Deployment pod.
  ExpectName(WorkloadFromPodName("nginx-latest-abcde"), "Pod", "nginx-latest-abcde");
  ExpectName(WorkloadFromPodName("standalone"), "Pod", "standalone");
}

TEST(WorkloadResolverTest, Owners) {
  ExpectName(WorkloadFromOwner("ReplicaSet", "web-xqtqjgsnp8", "xqtqjgsnp8"), "Deployment", "web");
  ExpectName(WorkloadFromOwner("ReplicaSet", "reports-api-lq5j7989b"), "Deployment", "reports-api");
  ExpectName(WorkloadFromOwner("ReplicaSet", "handmade"), "ReplicaSet", "handmade");
  ExpectName(WorkloadFromOwner("Job", "nightly-report-28930560"), "CronJob", "nightly-report");
  ExpectName(WorkloadFromOwner("Job", "migrate-db"), "Job", "migrate-db");
  ExpectName(WorkloadFromOwner("StatefulSet", "redis"), "StatefulSet", "redis");
  ExpectName(WorkloadFromOwner("DaemonSet", "node-exporter"), "DaemonSet", "node-exporter");
}

}  // namespace
}  // namespace remediator::detection
