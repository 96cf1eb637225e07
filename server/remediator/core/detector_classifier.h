// DetectorClassifier is the Classifier the remediator runs: the detection rules of
// server/remediator/core/detection behind the Classifier interface.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTOR_CLASSIFIER_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTOR_CLASSIFIER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "server/remediator/core/classifier.h"
#include "server/remediator/core/detection/detector.h"

namespace remediator {

class DetectorClassifier final : public Classifier {
 public:
  explicit DetectorClassifier(std::unique_ptr<detection::Detector> detector)
      : detector_(std::move(detector)) {}

  absl::StatusOr<v1::Detection> Classify(const v1::Observation& observation) const override;
  std::string Fingerprint(const v1::Detection& detection) const override;
  std::string Severity(const v1::Detection& detection) const override;

 private:
  std::unique_ptr<detection::Detector> detector_;
};

// The classifier with the default rules and log patterns. Internal error only if the built-in
// patterns do not compile (a bug, caught by the tests).
absl::StatusOr<std::unique_ptr<Classifier>> MakeDetectorClassifier();

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTOR_CLASSIFIER_H_
