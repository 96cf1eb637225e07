#include "server/remediator/core/detector_classifier.h"

#include "server/common/status_macros.h"
#include "server/remediator/core/detection/fingerprint.h"

namespace remediator {

absl::StatusOr<v1::Detection> DetectorClassifier::Classify(
    const v1::Observation& observation) const {
  return detector_->Detect(observation);
}

std::string DetectorClassifier::Fingerprint(const v1::Detection& detection) const {
  return detection::Fingerprint(detection);
}

std::string DetectorClassifier::Severity(const v1::Detection& detection) const {
  return detection::SeverityForClass(detection.error_class());
}

absl::StatusOr<std::unique_ptr<Classifier>> MakeDetectorClassifier() {
  ASSIGN_OR_RETURN(std::unique_ptr<detection::Detector> detector, detection::Detector::Create());
  return std::make_unique<DetectorClassifier>(std::move(detector));
}

}  // namespace remediator
