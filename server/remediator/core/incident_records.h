// The record-keeping rules every IncidentStore implementation shares (how a detection opens or
// joins an incident, how a transition is checked, what a page token is, what a valid claim
// request is), so that the stores differ only in how they persist. See incident_store.h for
// the contract these rules implement.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_INCIDENT_RECORDS_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_INCIDENT_RECORDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/remediator/core/incident_store.h"

namespace remediator {

// InvalidArgument naming the first detection that cannot become an incident (class NONE or
// unset, no fingerprint, count < 1).
absl::Status ValidateDetections(const std::vector<DetectionToRecord>& detections);

// "inc-" and 12 hex digits derived from `seed`; stores seed it with something unique per new
// incident.
std::string IncidentIdFromSeed(const std::string& seed);

// A new OPEN incident for `detection`, with its opening transition.
v1::Incident NewIncident(const DetectionToRecord& detection, const std::string& id);

// Folds a repeat of the incident's failure into it: count, last_seen, updated, pod, evidence.
void JoinDetection(const DetectionToRecord& detection, v1::Incident* incident);

// The compare-and-set step of TransitionIncident: FailedPrecondition naming both states when
// `incident` is not in `from`, otherwise moves it to `to` and appends the transition.
absl::Status ApplyTransition(v1::IncidentState from, v1::IncidentState to, const std::string& note,
                             absl::Time time, v1::Incident* incident);

// LinkIncident's rule: non-empty links replace the incident's.
void ApplyLinks(const std::string& fix_attempt_id, const std::string& pull_request_id,
                const std::string& call_id, v1::Incident* incident);

// Page tokens are the decimal offset of the next page. InvalidArgument for anything else.
absl::StatusOr<int64_t> ParsePageToken(const std::string& token);
// 0 means the default (50); larger than 1000 is capped. InvalidArgument when negative.
absl::StatusOr<int> CheckPageSize(int page_size);

// InvalidArgument for an empty owner or a lease <= 0.
absl::Status ValidateClaimRequest(const ClaimRequest& request);
// InvalidArgument for an empty list or a state outside the enum; else "state IN (...)" as SQL
// (the values are enum numbers, so the text is safe to splice into a statement).
absl::StatusOr<std::string> ClaimableStatesSql(const std::vector<v1::IncidentState>& states);

// The FailedPrecondition a claim attempt gets when `holder` holds incident `id` until `expires`.
absl::Status ClaimHeldError(const std::string& id, const std::string& holder, absl::Time expires);
// The FailedPrecondition a renewal or release gets when `owner` no longer holds incident `id`.
absl::Status ClaimLostError(const std::string& id, const std::string& owner,
                            const std::string& holder);

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_INCIDENT_RECORDS_H_
