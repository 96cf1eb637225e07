// Every case of shared/data/k8s-failures.jsonl (copied to testdata/) must be classified exactly
// as labelled: class, namespace, workload kind and name, container, fixable_by_manifest.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "server/remediator/core/detection/detector.h"
#include "server/remediator/core/detection/fingerprint.h"

namespace remediator::detection {
namespace {

using Json = nlohmann::json;

struct Case {
  std::string id;
  Json json;
};

std::vector<Case> LoadCorpus() {
  std::ifstream in(std::string(DETECTION_TESTDATA_DIR) + "/k8s-failures.jsonl");
  std::vector<Case> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    Json j = Json::parse(line);
    cases.push_back({j.at("id").get<std::string>(), j});
  }
  return cases;
}

std::string OrEmpty(const Json& j) { return j.is_string() ? j.get<std::string>() : ""; }

v1::ErrorClass ClassFromName(const std::string& name) {
  v1::ErrorClass c = v1::ERROR_CLASS_UNSPECIFIED;
  std::string upper = "ERROR_CLASS_";
  for (char ch : name) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  EXPECT_TRUE(v1::ErrorClass_Parse(upper, &c)) << name;
  return c;
}

v1::Observation ToObservation(const Json& input) {
  v1::Observation obs;
  obs.set_cluster("corpus");
  if (input.contains("type") && input.contains("object")) {
    obs.set_watch_event_json(input.dump());
  } else if (input.value("kind", "") == "Pod") {
    obs.set_pod_json(input.dump());
  } else if (input.value("kind", "") == "Event") {
    obs.set_event_json(input.dump());
  } else if (input.contains("log_file")) {
    obs.mutable_cri_log()->set_log_file(input.at("log_file").get<std::string>());
    for (const Json& l : input.at("lines")) obs.mutable_cri_log()->add_lines(l.get<std::string>());
  } else if (input.contains("loki_query")) {
    obs.mutable_loki()->set_query(input.at("loki_query").get<std::string>());
    obs.mutable_loki()->set_response_json(input.at("response").dump());
  } else if (input.contains("request")) {
    obs.mutable_pod_log()->set_request(input.at("request").get<std::string>());
    obs.mutable_pod_log()->set_text(input.at("body").get<std::string>());
  } else {
    ADD_FAILURE() << "unknown input shape: " << input.dump().substr(0, 200);
  }
  return obs;
}

TEST(CorpusTest, EveryCaseIsClassifiedAsLabelled) {
  const std::vector<Case> cases = LoadCorpus();
  ASSERT_EQ(cases.size(), 45u) << "testdata/k8s-failures.jsonl missing or changed";
  auto detector = Detector::Create();
  ASSERT_TRUE(detector.ok()) << detector.status();
  int right = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.id);
    const Json& expected = c.json.at("expected");
    absl::StatusOr<v1::Detection> d = (*detector)->Detect(ToObservation(c.json.at("input")));
    ASSERT_TRUE(d.ok()) << c.id << ": " << d.status();
    if (std::getenv("DETECTION_DUMP") != nullptr) {
      std::printf("%s %s\n", c.id.c_str(), d->ShortDebugString().c_str());
    }
    const v1::ErrorClass want = ClassFromName(expected.at("class").get<std::string>());
    bool ok = true;
    auto check = [&](const std::string& field, const std::string& got, const std::string& exp) {
      if (got != exp) {
        ok = false;
        ADD_FAILURE() << c.id << ": " << field << " = \"" << got << "\", want \"" << exp << "\"";
      }
    };
    check("class", v1::ErrorClass_Name(d->error_class()), v1::ErrorClass_Name(want));
    check("namespace", d->workload().namespace_(), OrEmpty(expected.at("namespace")));
    check("workload_kind", d->workload().kind(), OrEmpty(expected.at("workload_kind")));
    check("workload_name", d->workload().name(), OrEmpty(expected.at("workload_name")));
    check("container", d->workload().container(), OrEmpty(expected.at("container")));
    check("fixable_by_manifest", d->fixable_by_manifest() ? "true" : "false",
          expected.at("fixable_by_manifest").get<bool>() ? "true" : "false");
    EXPECT_EQ(d->workload().cluster(), "corpus");
    if (want != v1::ERROR_CLASS_NONE) {
      EXPECT_FALSE(d->reason().empty()) << c.id;
      EXPECT_FALSE(d->summary().empty()) << c.id;
      EXPECT_FALSE(d->evidence().empty()) << c.id;
      EXPECT_EQ(Fingerprint(*d).size(), 16u);
    } else {
      EXPECT_TRUE(d->evidence().empty()) << c.id;
    }
    if (ok) ++right;
  }
  EXPECT_EQ(right, 45);
  std::printf("corpus: %d/%zu cases classified as labelled\n", right, cases.size());
}

// Damaged inputs (truncated, bytes flipped, fields retyped) give a Detection or InvalidArgument,
// never a crash or another error code.
TEST(CorpusTest, DamagedInputsFailCleanly) {
  auto detector = Detector::Create();
  ASSERT_TRUE(detector.ok());
  std::mt19937 rng(1234);
  int invalid = 0;
  for (const Case& c : LoadCorpus()) {
    const v1::Observation good = ToObservation(c.json.at("input"));
    for (int round = 0; round < 40; ++round) {
      v1::Observation obs = good;
      std::string* text = nullptr;
      if (obs.has_pod_json()) text = obs.mutable_pod_json();
      if (obs.has_event_json()) text = obs.mutable_event_json();
      if (obs.has_watch_event_json()) text = obs.mutable_watch_event_json();
      if (obs.has_loki()) text = obs.mutable_loki()->mutable_response_json();
      if (obs.has_pod_log()) text = obs.mutable_pod_log()->mutable_request();
      if (obs.has_cri_log() && obs.cri_log().lines_size() > 0) {
        text = obs.mutable_cri_log()->mutable_lines(rng() % obs.cri_log().lines_size());
      }
      ASSERT_NE(text, nullptr) << c.id;
      switch (round % 4) {
        case 0:
          text->resize(rng() % (text->size() + 1));
          break;
        case 1:
          for (int i = 0; i < 3 && !text->empty(); ++i) {
            (*text)[rng() % text->size()] = static_cast<char>(rng() % 256);
          }
          break;
        case 2: {  // retype values: strings become numbers, objects become arrays
          for (const char* from : {"\"", "{", "true"}) {
            const size_t at = text->find(from, rng() % (text->size() + 1));
            if (at != std::string::npos) {
              text->replace(at, std::strlen(from), std::string(from) == "{" ? "[" : "7");
            }
          }
          break;
        }
        default: {
          // Valid JSON of the wrong shape in the right place.
          Json j = Json::parse(*text, nullptr, false);
          if (!j.is_discarded() && j.is_object() && !j.empty()) {
            auto it = j.begin();
            std::advance(it, rng() % j.size());
            *it = Json::array({1, "x", nullptr});
            *text = j.dump();
          }
        }
      }
      absl::StatusOr<v1::Detection> d = (*detector)->Detect(obs);
      if (!d.ok()) {
        ASSERT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument)
            << c.id << ": " << d.status();
        EXPECT_FALSE(d.status().message().empty());
        ++invalid;
      } else {
        EXPECT_NE(d->error_class(), v1::ERROR_CLASS_UNSPECIFIED) << c.id;
      }
    }
  }
  EXPECT_GT(invalid, 100);  // the damage is real
}

}  // namespace
}  // namespace remediator::detection
