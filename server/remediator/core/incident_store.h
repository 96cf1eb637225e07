// IncidentStore is where the Remediator keeps everything that must survive a restart: incidents
// and their state transitions, fix attempts, pull requests, calls, and small named values
// (source cursors, pipeline checkpoints). Records are the public API's protobuf messages, so
// what is stored is exactly what the API returns.
//
// Implementations: SqliteIncidentStore (one process, the embedded default), PostgresIncidentStore
// (shared by several replicas; server/remediator/adapters/postgres) and an in-memory store for
// unit tests (tests/testing/memory_incident_store.h). Every method is atomic: a crash leaves
// either the whole change or none of it. Implementations are thread-safe, and several stores
// opened on the same database (replicas) see one consistent state.
//
// Replicas share the work through claims: a worker claims an incident with a lease (an owner id
// and an expiry on the caller's clock), renews the lease while it works (the heartbeat), and
// releases it when done. A claim whose lease has expired may be taken over by anyone, so a
// killed replica's work resumes elsewhere. Claims order the work; exactly-once effects still
// rest on TransitionIncident's compare-and-set and on PutPullRequest / PutCall's unique keys.
// Lease expiry compares the callers' clocks, so replicas need synchronised clocks (NTP); a
// skew of s shortens the effective lease by s.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_INCIDENT_STORE_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_INCIDENT_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "remediator/v1/remediator.pb.h"
#include "telephony/v1/telephony.pb.h"

namespace remediator {

// A failure to be recorded: the detection, its fingerprint and when it was seen. `count` lets a
// caller that already folded repeats record them at once.
struct DetectionToRecord {
  v1::Detection detection;
  std::string fingerprint;
  std::string severity;
  absl::Time seen;
  int64_t count = 1;
};

struct RecordedIncident {
  v1::Incident incident;
  // True when this call opened the incident.
  bool created = false;
};

// Filters for ListIncidents; unset fields match everything.
struct IncidentFilter {
  v1::IncidentState state = v1::INCIDENT_STATE_UNSPECIFIED;
  v1::ErrorClass error_class = v1::ERROR_CLASS_UNSPECIFIED;
  std::string namespace_name;
  int page_size = 50;
  // Opaque token from a previous page; empty for the first page.
  std::string page_token;
};

struct IncidentPage {
  std::vector<v1::Incident> incidents;
  std::string next_page_token;
};

struct CallFilter {
  std::string incident_id;
  std::string number;
  std::optional<absl::Time> since;
  std::optional<absl::Time> until;
  int page_size = 50;
  std::string page_token;
};

struct CallPage {
  std::vector<telephony::v1::CallRecord> calls;
  std::string next_page_token;
};

struct PullRequestPage {
  std::vector<v1::PullRequest> pull_requests;
  std::string next_page_token;
};

// A worker's hold on an incident (see IncidentStore::ClaimIncident).
struct IncidentClaim {
  v1::Incident incident;
  std::string owner;
  absl::Time expires;
  // Grows by one each time the incident passes to another owner (not on renewal): a fencing
  // token that tells a worker whether anyone else held the incident since it last did.
  int64_t generation = 0;
};

// Who claims, for how long, and the claimer's current time (its injected clock).
struct ClaimRequest {
  std::string owner;
  absl::Duration lease = absl::Seconds(30);
  absl::Time now;
};

// How many evidence excerpts an incident keeps (the most recent ones).
inline constexpr int kMaxIncidentEvidence = 20;

class IncidentStore {
 public:
  virtual ~IncidentStore() = default;

  // Records failures in one transaction. A detection whose fingerprint matches an incident that
  // is not resolved joins it (count += count, last_seen, evidence); otherwise it opens a new
  // incident in state OPEN. Returns one entry per input, in order. Detections of class NONE are
  // rejected with InvalidArgument (they are not incidents).
  virtual absl::StatusOr<std::vector<RecordedIncident>> RecordDetections(
      const std::vector<DetectionToRecord>& detections) = 0;

  // NotFound when there is no incident `id`.
  virtual absl::StatusOr<v1::Incident> GetIncident(const std::string& id) = 0;

  // Newest activity first. InvalidArgument for a malformed page token or page size.
  virtual absl::StatusOr<IncidentPage> ListIncidents(const IncidentFilter& filter) = 0;

  // Moves incident `id` from `from` to `to`, appending a transition with `note` and `time`.
  // FailedPrecondition (naming both states) when the incident is not in `from`: this
  // compare-and-set is how two workers never take the same step twice.
  virtual absl::StatusOr<v1::Incident> TransitionIncident(const std::string& id,
                                                          v1::IncidentState from,
                                                          v1::IncidentState to,
                                                          const std::string& note,
                                                          absl::Time time) = 0;

  // Sets the links of an incident (last_fix_attempt_id, pull_request_id, last_call_id) without
  // touching its state or counters. NotFound when absent.
  virtual absl::Status LinkIncident(const std::string& id, const std::string& fix_attempt_id,
                                    const std::string& pull_request_id,
                                    const std::string& call_id) = 0;

  // Inserts or replaces a fix attempt by id.
  virtual absl::Status PutFixAttempt(const v1::FixAttempt& attempt) = 0;
  virtual absl::StatusOr<v1::FixAttempt> GetFixAttempt(const std::string& id) = 0;
  // Oldest first.
  virtual absl::StatusOr<std::vector<v1::FixAttempt>> ListFixAttempts(
      const std::string& incident_id) = 0;

  // Inserts a pull request. If the incident already has one, stores nothing and returns the
  // existing record (a PR is opened exactly once per incident).
  virtual absl::StatusOr<v1::PullRequest> PutPullRequest(const v1::PullRequest& pull_request) = 0;
  // Replaces an existing pull request record (e.g. to fill in the URL). NotFound when absent.
  virtual absl::Status UpdatePullRequest(const v1::PullRequest& pull_request) = 0;
  virtual absl::StatusOr<v1::PullRequest> GetPullRequest(const std::string& id) = 0;
  // Newest first; `incident_id` empty lists all.
  virtual absl::StatusOr<PullRequestPage> ListPullRequests(const std::string& incident_id,
                                                           int page_size,
                                                           const std::string& page_token) = 0;

  // Inserts a call record keyed by call_id. A second record with the same non-empty
  // idempotency_key stores nothing and returns the first one.
  virtual absl::StatusOr<telephony::v1::CallRecord> PutCall(
      const telephony::v1::CallRecord& call) = 0;
  // Newest first.
  virtual absl::StatusOr<CallPage> ListCalls(const CallFilter& filter) = 0;

  // Small named values (source cursors, checkpoints). GetValue returns nullopt when unset.
  virtual absl::StatusOr<std::optional<std::string>> GetValue(const std::string& key) = 0;
  virtual absl::Status PutValue(const std::string& key, const std::string& value) = 0;

  // Claims incident `id` for `request.owner` until `request.now + request.lease`, whatever its
  // state. Succeeds when the incident is unclaimed, when its lease has expired (a takeover:
  // generation + 1) or when the owner already holds it (a renewal: same generation).
  // FailedPrecondition naming the holder when another owner's lease is live; NotFound when
  // absent; InvalidArgument for an empty owner or a lease <= 0.
  virtual absl::StatusOr<IncidentClaim> ClaimIncident(const std::string& id,
                                                      const ClaimRequest& request) = 0;

  // Claims the incident in one of `states` that is unclaimed or whose lease has expired, least
  // recently updated first; nullopt when there is none. Concurrent callers, in this process or
  // in other replicas, never receive the same incident while its lease is live (PostgreSQL:
  // SELECT ... FOR UPDATE SKIP LOCKED, so claimers do not queue behind each other).
  // InvalidArgument for an empty `states`, an empty owner or a lease <= 0.
  virtual absl::StatusOr<std::optional<IncidentClaim>> ClaimNextIncident(
      const std::vector<v1::IncidentState>& states, const ClaimRequest& request) = 0;

  // The heartbeat: extends the owner's claim to `request.now + request.lease`. Allowed after
  // the lease expired as long as nobody took the incident over. FailedPrecondition when another
  // owner holds it or nobody does (the claim was lost); NotFound when absent.
  virtual absl::StatusOr<IncidentClaim> RenewLease(const std::string& id,
                                                   const ClaimRequest& request) = 0;

  // Gives the claim up so that anyone may claim the incident at once. FailedPrecondition when
  // `owner` does not hold it; NotFound when absent.
  virtual absl::Status ReleaseClaim(const std::string& id, const std::string& owner) = 0;
};

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_INCIDENT_STORE_H_
