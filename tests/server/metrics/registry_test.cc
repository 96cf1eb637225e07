// The metrics registry's text exposition (format 0.0.4) and its thread safety, and the /metrics
// endpoint over real HTTP on port 0.
#include "server/metrics/registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>
#include <vector>

#include "server/metrics/metrics_server.h"
#include "tests/testing/status_matchers.h"

namespace remediator::metrics {
namespace {

using ::remediator::testing::IsOk;
using ::testing::HasSubstr;

TEST(RegistryTest, ExposesCountersGaugesAndHistogramsInTheTextFormat) {
  Registry registry;
  CounterFamily& rpcs = registry.AddCounter("rpcs_total", "RPCs.\nBy code.", {"method", "code"});
  rpcs.Get({"Get", "OK"}).Increment();
  rpcs.Get({"Get", "OK"}).Increment(2);
  rpcs.Get({"Get", "OK"}).Increment(-5);  // a counter never goes down
  rpcs.Get({"say \"hi\"\\\n", "OK"}).Increment();
  registry.AddGauge("queue_depth", "Depth.", {}).Get({}).Set(7.5);
  Histogram& h = registry.AddHistogram("took_seconds", "Took.", {}, {0.1, 0.5, 1}).Get({});
  for (double v : {0.25, 0.5, 0.75, 3.0}) h.Observe(v);
  std::string text = registry.Expose();
  EXPECT_THAT(text, HasSubstr("# HELP rpcs_total RPCs.\\nBy code.\n# TYPE rpcs_total counter\n"));
  EXPECT_THAT(text, HasSubstr("rpcs_total{method=\"Get\",code=\"OK\"} 3\n"));
  EXPECT_THAT(text, HasSubstr("rpcs_total{method=\"say \\\"hi\\\"\\\\\\n\",code=\"OK\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE queue_depth gauge\nqueue_depth 7.5\n"));
  // Buckets are cumulative; a value on a bound falls in that bucket (le = less or equal).
  EXPECT_THAT(text, HasSubstr("took_seconds_bucket{le=\"0.1\"} 0\n"
                              "took_seconds_bucket{le=\"0.5\"} 2\n"
                              "took_seconds_bucket{le=\"1\"} 3\n"
                              "took_seconds_bucket{le=\"+Inf\"} 4\n"
                              "took_seconds_sum 4.5\n"
                              "took_seconds_count 4\n"));
}

TEST(RegistryTest, CollectorsAddFamiliesAtScrapeTime) {
  Registry registry;
  int scrapes = 0;
  registry.AddCollector([&scrapes] {
    CollectedFamily f;
    f.name = "incidents";
    f.help = "Incidents.";
    f.label_names = {"state"};
    f.samples = {{{"open"}, static_cast<double>(++scrapes)}};
    std::vector<CollectedFamily> out;
    out.push_back(std::move(f));
    return out;
  });
  EXPECT_THAT(registry.Expose(), HasSubstr("incidents{state=\"open\"} 1\n"));
  EXPECT_THAT(registry.Expose(), HasSubstr("incidents{state=\"open\"} 2\n"));
}

TEST(RegistryTest, ConcurrentIncrementsAreAllCounted) {
  Registry registry;
  CounterFamily& family = registry.AddCounter("hits_total", "Hits.", {"worker"});
  Histogram& h = registry.AddHistogram("h_seconds", "H.", {}, DurationBuckets()).Get({});
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        family.Get({std::to_string(t % 2)}).Increment();
        h.Observe(0.01);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(family.Get({"0"}).Value() + family.Get({"1"}).Value(), 80000);
  EXPECT_EQ(h.Count(), 80000u);
}

TEST(MetricsServerTest, ServesMetricsOverHttpAndNothingElse) {
  Registry registry;
  registry.AddCounter("up_total", "Up.", {}).Get({}).Increment();
  auto server = MetricsServer::Start("127.0.0.1:0", registry);
  ASSERT_THAT(server, IsOk());
  httplib::Client client(
      (*server)->address().substr(0, (*server)->address().rfind(':')),
      std::stoi((*server)->address().substr((*server)->address().rfind(':') + 1)));
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), kExpositionContentType);
  EXPECT_THAT(res->body, HasSubstr("up_total 1\n"));
  auto other = client.Get("/");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);
  EXPECT_THAT(MetricsServer::Start("nonsense", registry).status().message(),
              HasSubstr("not HOST:PORT"));
}

}  // namespace
}  // namespace remediator::metrics
