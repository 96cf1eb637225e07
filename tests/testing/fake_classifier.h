// FakeClassifier: a Classifier whose answers a test sets by the observation's `source` field.
// Observations whose source has no answer are ERROR_CLASS_NONE; a source of "malformed" gives
// InvalidArgument. Thread-compatible: set answers before use.
#ifndef REMEDIATOR_TESTS_TESTING_FAKE_CLASSIFIER_H_
#define REMEDIATOR_TESTS_TESTING_FAKE_CLASSIFIER_H_

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "server/remediator/core/classifier.h"

namespace remediator::testing {

class FakeClassifier final : public Classifier {
 public:
  void SetAnswer(const std::string& source, const v1::Detection& detection) {
    answers_[source] = detection;
  }
  absl::StatusOr<v1::Detection> Classify(const v1::Observation& observation) const override {
    if (observation.source() == "malformed") {
      return absl::InvalidArgumentError("cannot read this observation");
    }
    auto it = answers_.find(observation.source());
    if (it == answers_.end()) {
      v1::Detection none;
      none.set_error_class(v1::ERROR_CLASS_NONE);
      return none;
    }
    return it->second;
  }
  std::string Fingerprint(const v1::Detection& d) const override {
    return absl::StrCat(d.workload().namespace_(), "/", d.workload().kind(), "/",
                        d.workload().name(), "/", d.error_class());
  }
  std::string Severity(const v1::Detection&) const override { return "high"; }

 private:
  std::map<std::string, v1::Detection> answers_;
};

// A failure detection for workload `ns/name` of class `error_class`.
inline v1::Detection MakeDetection(const std::string& ns, const std::string& name,
                                   v1::ErrorClass error_class,
                                   const std::string& evidence = "evidence") {
  v1::Detection d;
  d.set_error_class(error_class);
  d.mutable_workload()->set_namespace_(ns);
  d.mutable_workload()->set_kind("Deployment");
  d.mutable_workload()->set_name(name);
  d.mutable_workload()->set_container(name);
  d.set_reason("TestReason");
  d.set_summary("test failure");
  d.add_evidence(evidence);
  return d;
}

}  // namespace remediator::testing

#endif  // REMEDIATOR_TESTS_TESTING_FAKE_CLASSIFIER_H_
