#include "tests/testing/memory_incident_store.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "server/common/status_macros.h"
#include "server/common/time_util.h"
#include "server/remediator/core/incident_records.h"

namespace remediator::testing {
namespace {

// The page of `sorted` at `offset`, and the next page's token when there is more.
template <typename T>
std::vector<T> PageOf(std::vector<T> sorted, int64_t offset, int size, std::string* next_token) {
  if (offset >= static_cast<int64_t>(sorted.size())) return {};
  auto begin = sorted.begin() + offset;
  auto end = sorted.end();
  if (end - begin > size) {
    end = begin + size;
    *next_token = std::to_string(offset + size);
  }
  return std::vector<T>(begin, end);
}

bool Matches(const IncidentFilter& filter, const v1::Incident& incident) {
  return (filter.state == v1::INCIDENT_STATE_UNSPECIFIED || incident.state() == filter.state) &&
         (filter.error_class == v1::ERROR_CLASS_UNSPECIFIED ||
          incident.error_class() == filter.error_class) &&
         (filter.namespace_name.empty() ||
          incident.workload().namespace_() == filter.namespace_name);
}

}  // namespace

void MemoryIncidentStore::FailNext(absl::Status status, int count) {
  absl::MutexLock lock(&mu_);
  fail_ = std::move(status);
  fail_count_ = count;
}

absl::Status MemoryIncidentStore::Injected() {
  if (fail_count_ == 0) return absl::OkStatus();
  --fail_count_;
  return fail_;
}

absl::StatusOr<IncidentClaim*> MemoryIncidentStore::Find(const std::string& id) {
  auto it = incidents_.find(id);
  if (it == incidents_.end()) return absl::NotFoundError(absl::StrCat("no incident \"", id, "\""));
  return &it->second;
}

IncidentClaim MemoryIncidentStore::Take(IncidentClaim& claim, const ClaimRequest& request) {
  if (claim.owner != request.owner) ++claim.generation;
  claim.owner = request.owner;
  claim.expires = request.now + request.lease;
  return claim;
}

absl::StatusOr<std::vector<RecordedIncident>> MemoryIncidentStore::RecordDetections(
    const std::vector<DetectionToRecord>& detections) {
  RETURN_IF_ERROR(ValidateDetections(detections));
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Injected());
  std::vector<RecordedIncident> results;
  for (const DetectionToRecord& d : detections) {
    RecordedIncident result;
    auto live = live_by_fingerprint_.find(d.fingerprint);
    if (live != live_by_fingerprint_.end()) {
      v1::Incident& incident = incidents_[live->second].incident;
      JoinDetection(d, &incident);
      result.incident = incident;
    } else {
      result.incident =
          NewIncident(d, IncidentIdFromSeed(absl::StrCat(
                             d.fingerprint, "|", absl::ToUnixNanos(d.seen), "|", created_++)));
      result.created = true;
      live_by_fingerprint_[d.fingerprint] = result.incident.id();
      incidents_[result.incident.id()].incident = result.incident;
    }
    results.push_back(std::move(result));
  }
  return results;
}

absl::StatusOr<v1::Incident> MemoryIncidentStore::GetIncident(const std::string& id) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Injected());
  ASSIGN_OR_RETURN(IncidentClaim * entry, Find(id));
  return entry->incident;
}

absl::StatusOr<IncidentPage> MemoryIncidentStore::ListIncidents(const IncidentFilter& filter) {
  ASSIGN_OR_RETURN(int64_t offset, ParsePageToken(filter.page_token));
  ASSIGN_OR_RETURN(int size, CheckPageSize(filter.page_size));
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Injected());
  std::vector<v1::Incident> matching;
  for (const auto& [id, entry] : incidents_) {
    if (Matches(filter, entry.incident)) matching.push_back(entry.incident);
  }
  std::sort(matching.begin(), matching.end(), [](const v1::Incident& a, const v1::Incident& b) {
    return std::make_tuple(-absl::ToUnixNanos(FromProtoTime(a.updated())), a.id()) <
           std::make_tuple(-absl::ToUnixNanos(FromProtoTime(b.updated())), b.id());
  });
  IncidentPage page;
  page.incidents = PageOf(std::move(matching), offset, size, &page.next_page_token);
  return page;
}

absl::StatusOr<v1::Incident> MemoryIncidentStore::TransitionIncident(const std::string& id,
                                                                     v1::IncidentState from,
                                                                     v1::IncidentState to,
                                                                     const std::string& note,
                                                                     absl::Time time) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Injected());
  ASSIGN_OR_RETURN(IncidentClaim * entry, Find(id));
  v1::Incident incident = entry->incident;
  RETURN_IF_ERROR(ApplyTransition(from, to, note, time, &incident));
  if (to == v1::INCIDENT_STATE_RESOLVED) live_by_fingerprint_.erase(incident.fingerprint());
  if (from == v1::INCIDENT_STATE_RESOLVED) {
    if (live_by_fingerprint_.count(incident.fingerprint()) > 0) {
      return absl::AlreadyExistsError(
          absl::StrCat("constraint: another incident is live for ", incident.fingerprint()));
    }
    live_by_fingerprint_[incident.fingerprint()] = id;
  }
  entry->incident = incident;
  return incident;
}

absl::Status MemoryIncidentStore::LinkIncident(const std::string& id,
                                               const std::string& fix_attempt_id,
                                               const std::string& pull_request_id,
                                               const std::string& call_id) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Injected());
  ASSIGN_OR_RETURN(IncidentClaim * entry, Find(id));
  ApplyLinks(fix_attempt_id, pull_request_id, call_id, &entry->incident);
  return absl::OkStatus();
}

absl::Status MemoryIncidentStore::PutFixAttempt(const v1::FixAttempt& attempt) {
  if (attempt.id().empty() || attempt.incident_id().empty()) {
    return absl::InvalidArgumentError("a fix attempt needs an id and an incident_id");
  }
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Injected());
  attempts_[attempt.id()] = attempt;
  return absl::OkStatus();
}

absl::StatusOr<v1::FixAttempt> MemoryIncidentStore::GetFixAttempt(const std::string& id) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Injected());
  auto it = attempts_.find(id);
  if (it == attempts_.end())
    return absl::NotFoundError(absl::StrCat("no fix attempt \"", id, "\""));
  return it->second;
}

absl::StatusOr<std::vector<v1::FixAttempt>> MemoryIncidentStore::ListFixAttempts(
    const std::string& incident_id) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Injected());
  std::vector<v1::FixAttempt> attempts;
  for (const auto& [id, attempt] : attempts_) {
    if (attempt.incident_id() == incident_id) attempts.push_back(attempt);
  }
  std::stable_sort(attempts.begin(), attempts.end(),
                   [](const v1::FixAttempt& a, const v1::FixAttempt& b) {
                     return FromProtoTime(a.started()) < FromProtoTime(b.started());
                   });
  return attempts;
}

absl::StatusOr<v1::PullRequest> MemoryIncidentStore::PutPullRequest(
    const v1::PullRequest& pull_request) {
  if (pull_request.id().empty() || pull_request.incident_id().empty()) {
    return absl::InvalidArgumentError("a pull request needs an id and an incident_id");
  }
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Injected());
  auto existing = pull_request_by_incident_.find(pull_request.incident_id());
  if (existing != pull_request_by_incident_.end()) return pull_requests_[existing->second];
  if (pull_requests_.count(pull_request.id()) > 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("pull request \"", pull_request.id(), "\" exists for another incident"));
  }
  pull_requests_[pull_request.id()] = pull_request;
  pull_request_by_incident_[pull_request.incident_id()] = pull_request.id();
  return pull_request;
}

absl::Status MemoryIncidentStore::UpdatePullRequest(const v1::PullRequest& pull_request) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Injected());
  auto it = pull_requests_.find(pull_request.id());
  if (it == pull_requests_.end()) {
    return absl::NotFoundError(absl::StrCat("no pull request \"", pull_request.id(), "\""));
  }
  it->second = pull_request;
  return absl::OkStatus();
}

absl::StatusOr<v1::PullRequest> MemoryIncidentStore::GetPullRequest(const std::string& id) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Injected());
  auto it = pull_requests_.find(id);
  if (it == pull_requests_.end()) {
    return absl::NotFoundError(absl::StrCat("no pull request \"", id, "\""));
  }
  return it->second;
}

absl::StatusOr<PullRequestPage> MemoryIncidentStore::ListPullRequests(
    const std::string& incident_id, int page_size, const std::string& page_token) {
  ASSIGN_OR_RETURN(int64_t offset, ParsePageToken(page_token));
  ASSIGN_OR_RETURN(int size, CheckPageSize(page_size));
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Injected());
  std::vector<v1::PullRequest> matching;
  for (const auto& [id, pr] : pull_requests_) {
    if (incident_id.empty() || pr.incident_id() == incident_id) matching.push_back(pr);
  }
  std::sort(matching.begin(), matching.end(),
            [](const v1::PullRequest& a, const v1::PullRequest& b) {
              return std::make_tuple(-absl::ToUnixNanos(FromProtoTime(a.created())), a.id()) <
                     std::make_tuple(-absl::ToUnixNanos(FromProtoTime(b.created())), b.id());
            });
  PullRequestPage page;
  page.pull_requests = PageOf(std::move(matching), offset, size, &page.next_page_token);
  return page;
}

absl::StatusOr<telephony::v1::CallRecord> MemoryIncidentStore::PutCall(
    const telephony::v1::CallRecord& call) {
  if (call.call_id().empty()) return absl::InvalidArgumentError("a call record needs a call_id");
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Injected());
  if (!call.idempotency_key().empty()) {
    auto existing = call_by_key_.find(call.idempotency_key());
    if (existing != call_by_key_.end()) return calls_[existing->second];
    call_by_key_[call.idempotency_key()] = call.call_id();
  }
  calls_[call.call_id()] = call;
  return call;
}

absl::StatusOr<CallPage> MemoryIncidentStore::ListCalls(const CallFilter& filter) {
  ASSIGN_OR_RETURN(int64_t offset, ParsePageToken(filter.page_token));
  ASSIGN_OR_RETURN(int size, CheckPageSize(filter.page_size));
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Injected());
  std::vector<telephony::v1::CallRecord> matching;
  for (const auto& [id, call] : calls_) {
    absl::Time time = FromProtoTime(call.call_time());
    if ((!filter.incident_id.empty() && call.incident_id() != filter.incident_id) ||
        (!filter.number.empty() && call.number() != filter.number) ||
        (filter.since && time < *filter.since) || (filter.until && time >= *filter.until)) {
      continue;
    }
    matching.push_back(call);
  }
  std::sort(matching.begin(), matching.end(),
            [](const telephony::v1::CallRecord& a, const telephony::v1::CallRecord& b) {
              return std::make_tuple(-absl::ToUnixNanos(FromProtoTime(a.call_time())),
                                     a.call_id()) <
                     std::make_tuple(-absl::ToUnixNanos(FromProtoTime(b.call_time())), b.call_id());
            });
  CallPage page;
  page.calls = PageOf(std::move(matching), offset, size, &page.next_page_token);
  return page;
}

absl::StatusOr<std::optional<std::string>> MemoryIncidentStore::GetValue(const std::string& key) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Injected());
  auto it = values_.find(key);
  if (it == values_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

absl::Status MemoryIncidentStore::PutValue(const std::string& key, const std::string& value) {
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Injected());
  values_[key] = value;
  return absl::OkStatus();
}

absl::StatusOr<IncidentClaim> MemoryIncidentStore::ClaimIncident(const std::string& id,
                                                                 const ClaimRequest& request) {
  RETURN_IF_ERROR(ValidateClaimRequest(request));
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Injected());
  ASSIGN_OR_RETURN(IncidentClaim * claim, Find(id));
  if (!claim->owner.empty() && claim->owner != request.owner && claim->expires > request.now) {
    return ClaimHeldError(id, claim->owner, claim->expires);
  }
  return Take(*claim, request);
}

absl::StatusOr<std::optional<IncidentClaim>> MemoryIncidentStore::ClaimNextIncident(
    const std::vector<v1::IncidentState>& states, const ClaimRequest& request) {
  RETURN_IF_ERROR(ValidateClaimRequest(request));
  RETURN_IF_ERROR(ClaimableStatesSql(states).status());
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Injected());
  IncidentClaim* best = nullptr;
  for (auto& [id, claim] : incidents_) {
    if (std::find(states.begin(), states.end(), claim.incident.state()) == states.end()) continue;
    if (!claim.owner.empty() && claim.expires > request.now) continue;
    // Least recently updated first; incidents_ is ordered by id, which breaks ties.
    if (best == nullptr ||
        FromProtoTime(claim.incident.updated()) < FromProtoTime(best->incident.updated())) {
      best = &claim;
    }
  }
  if (best == nullptr) return std::optional<IncidentClaim>();
  return std::optional<IncidentClaim>(Take(*best, request));
}

absl::StatusOr<IncidentClaim> MemoryIncidentStore::RenewLease(const std::string& id,
                                                              const ClaimRequest& request) {
  RETURN_IF_ERROR(ValidateClaimRequest(request));
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Injected());
  ASSIGN_OR_RETURN(IncidentClaim * claim, Find(id));
  if (claim->owner != request.owner) return ClaimLostError(id, request.owner, claim->owner);
  return Take(*claim, request);
}

absl::Status MemoryIncidentStore::ReleaseClaim(const std::string& id, const std::string& owner) {
  if (owner.empty()) return absl::InvalidArgumentError("a claim needs an owner id");
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(Injected());
  ASSIGN_OR_RETURN(IncidentClaim * claim, Find(id));
  if (claim->owner != owner) return ClaimLostError(id, owner, claim->owner);
  claim->owner.clear();
  claim->expires = absl::InfinitePast();
  return absl::OkStatus();
}

}  // namespace remediator::testing
