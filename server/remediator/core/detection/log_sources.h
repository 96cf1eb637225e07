// Turns the three log payloads of an Observation into batches of logical lines with the identity
// of the container that wrote them.
//   CriLogLines: identity from the fields, else from log_file (cri_log.h); P chunks joined.
//   PodLogText:  identity from the fields, else from the request path
//                ".../namespaces/<ns>/pods/<pod>/log?container=<c>"; text split on '\n'.
//   LokiResult:  one batch per stream; labels namespace|k8s_namespace_name|namespace_name,
//                pod|k8s_pod_name|pod_name, container|k8s_container_name|container_name,
//                and k8s_deployment_name when present; values sorted oldest first (Loki answers
//                newest first by default).
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_LOG_SOURCES_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_LOG_SOURCES_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "remediator/v1/remediator.pb.h"

namespace remediator::detection {

struct LogBatch {
  std::string namespace_;
  std::string pod;
  std::string container;
  // A workload name given by the source itself (Loki's k8s_deployment_name), else empty.
  std::string deployment;
  // Oldest first. Views into the Observation the batch was made from, or into `storage` (joined
  // CRI chunks, Loki lines): a LogBatch must not outlive its Observation. Movable, not copyable.
  std::vector<std::string_view> lines;
  std::vector<std::unique_ptr<std::string>> storage;
};

// InvalidArgument when a line is not CRI (the message names the line index).
absl::StatusOr<LogBatch> BatchFromCri(const v1::CriLogLines& cri);
absl::StatusOr<LogBatch> BatchFromPodLog(const v1::PodLogText& log);
// InvalidArgument for bad JSON, a failed query, or a resultType other than "streams".
absl::StatusOr<std::vector<LogBatch>> BatchesFromLoki(const v1::LokiResult& loki);

}  // namespace remediator::detection

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_LOG_SOURCES_H_
