// Reads the JSON Lines that `remediatorctl report` sends. Each line is one of:
//   - a bare Kubernetes object: a Pod, a core/v1 or events.k8s.io/v1 Event, or a watch event
//     {"type": "...", "object": {...}};
//   - a wrapped observation as in ../shared/data/k8s-failures.jsonl:
//     {"id": "...", "source": "pod_status|event|watch_event|log_line|cri_log|pod_log|loki",
//      "input": ...} where a log_line input is CRI lines ({"log_file", "lines"}), pod-log API
//     text ({"request", "body"}) or a Loki response ({"loki_query", "response"}).
// Blank lines are skipped.
#ifndef REMEDIATOR_CLIENTS_CLI_OBSERVATION_READER_H_
#define REMEDIATOR_CLIENTS_CLI_OBSERVATION_READER_H_

#include <istream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "remediator/v1/remediator.pb.h"

namespace remediator::cli {

struct InputLine {
  int line_number = 0;
  // The wrapped form's "id", empty for bare objects.
  std::string id;
  v1::Observation observation;
};

// Converts one line. InvalidArgument saying what is wrong (not JSON, not an object, unknown
// source, an input of the wrong shape).
absl::StatusOr<v1::Observation> ParseObservationLine(const std::string& line, std::string* id);

// Reads every line of `in`. Fails on the first bad line with "line N: ..." so that nothing is
// sent from a half-read file.
absl::StatusOr<std::vector<InputLine>> ReadObservations(std::istream& in);

}  // namespace remediator::cli

#endif  // REMEDIATOR_CLIENTS_CLI_OBSERVATION_READER_H_
