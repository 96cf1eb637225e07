#include "server/remediator/core/ingestor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "server/common/time_util.h"
#include "server/remediator/adapters/sqlite_incident_store.h"
#include "tests/testing/fake_classifier.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace remediator {
namespace {

using ::remediator::testing::FakeClassifier;
using ::remediator::testing::FakeClock;
using ::remediator::testing::IsOk;
using ::remediator::testing::MakeDetection;
using ::remediator::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class IngestorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ingestor_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto store = SqliteIncidentStore::Open((dir_ / "r.db").string());
    ASSERT_THAT(store, IsOk());
    store_ = *std::move(store);
    classifier_.SetAnswer("oom", MakeDetection("app", "nginx", v1::ERROR_CLASS_OOM_KILLED));
    classifier_.SetAnswer("pull", MakeDetection("app", "reports", v1::ERROR_CLASS_IMAGE_PULL));
    ingestor_ = std::make_unique<Ingestor>(classifier_, *store_, clock_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static v1::Observation Obs(const std::string& source) {
    v1::Observation o;
    o.set_source(source);
    o.set_pod_json("{}");
    return o;
  }

  std::filesystem::path dir_;
  FakeClock clock_;
  FakeClassifier classifier_;
  std::unique_ptr<SqliteIncidentStore> store_;
  std::unique_ptr<Ingestor> ingestor_;
};

TEST_F(IngestorTest, OneDetectionPerObservationInOrderWithIncidents) {
  google::protobuf::RepeatedPtrField<v1::Observation> batch;
  *batch.Add() = Obs("quiet");
  *batch.Add() = Obs("oom");
  *batch.Add() = Obs("pull");
  *batch.Add() = Obs("oom");
  auto detections = ingestor_->Ingest(batch);
  ASSERT_THAT(detections, IsOk());
  ASSERT_THAT(*detections, SizeIs(4));
  EXPECT_EQ((*detections)[0].error_class(), v1::ERROR_CLASS_NONE);
  EXPECT_EQ((*detections)[0].incident_id(), "");
  EXPECT_EQ((*detections)[1].index(), 1);
  EXPECT_FALSE((*detections)[1].incident_id().empty());
  EXPECT_TRUE((*detections)[1].new_incident());
  EXPECT_EQ((*detections)[3].incident_id(), (*detections)[1].incident_id());
  EXPECT_FALSE((*detections)[3].new_incident());
  EXPECT_NE((*detections)[2].incident_id(), (*detections)[1].incident_id());
  auto incident = store_->GetIncident((*detections)[1].incident_id());
  ASSERT_THAT(incident, IsOk());
  EXPECT_EQ(incident->count(), 2);
  EXPECT_EQ(FromProtoTime(incident->first_seen()), clock_.Now());
}

TEST_F(IngestorTest, TenThousandRepeatsMakeOneIncidentCountedTenThousand) {
  for (int round = 0; round < 10; ++round) {
    google::protobuf::RepeatedPtrField<v1::Observation> batch;
    for (int i = 0; i < 1000; ++i) *batch.Add() = Obs("oom");
    ASSERT_THAT(ingestor_->Ingest(batch), IsOk());
    clock_.Advance(absl::Seconds(1));
  }
  auto page = store_->ListIncidents({});
  ASSERT_THAT(page, IsOk());
  ASSERT_THAT(page->incidents, SizeIs(1));
  EXPECT_EQ(page->incidents[0].count(), 10000);
  EXPECT_EQ(FromProtoTime(page->incidents[0].last_seen()) -
                FromProtoTime(page->incidents[0].first_seen()),
            absl::Seconds(9));
}

TEST_F(IngestorTest, MalformedObservationStoresNothingAndNamesItsIndex) {
  google::protobuf::RepeatedPtrField<v1::Observation> batch;
  *batch.Add() = Obs("oom");
  *batch.Add() = Obs("malformed");
  EXPECT_THAT(ingestor_->Ingest(batch),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("observations[1]")));
  auto page = store_->ListIncidents({});
  ASSERT_THAT(page, IsOk());
  EXPECT_THAT(page->incidents, SizeIs(0));
}

TEST_F(IngestorTest, ObservedTimeIsUsedWhenGiven) {
  google::protobuf::RepeatedPtrField<v1::Observation> batch;
  v1::Observation o = Obs("oom");
  const absl::Time when = absl::FromUnixSeconds(1700000000);
  *o.mutable_observed_time() = ToProtoTime(when);
  *batch.Add() = o;
  auto detections = ingestor_->Ingest(batch);
  ASSERT_THAT(detections, IsOk());
  auto incident = store_->GetIncident((*detections)[0].incident_id());
  ASSERT_THAT(incident, IsOk());
  EXPECT_EQ(FromProtoTime(incident->first_seen()), when);
}

}  // namespace
}  // namespace remediator
