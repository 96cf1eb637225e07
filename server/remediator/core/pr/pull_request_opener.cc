#include "server/remediator/core/pr/pull_request_opener.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "server/common/logging.h"
#include "server/common/status_macros.h"
#include "server/common/time_util.h"
#include "server/remediator/core/enum_names.h"
#include "server/remediator/core/manifest/field_path.h"
#include "server/remediator/core/manifest/yaml_text_edit.h"
#include "server/remediator/core/pr/manifest_locator.h"
#include "server/remediator/core/pr/pr_content.h"

namespace remediator::pr {

// What survives a crash. Stored as JSON so that an operator can read it.
struct PullRequestOpener::Checkpoint {
  std::string stage;  // "", "committed", "pushed", "opened"
  std::string attempt_id;
  std::string branch;
  std::string base_commit;
  std::string commit;
  int64_t time = 0;
  std::string message;
};

namespace {

std::string CheckpointKey(const std::string& incident_id) {
  return absl::StrCat("pr_opener/", incident_id);
}

bool WorkloadMatches(const nlohmann::json& doc, const v1::WorkloadRef& workload) {
  if (workload.kind().empty() || workload.name().empty()) return true;
  if (!doc.is_object()) return false;
  const nlohmann::json metadata = doc.value("metadata", nlohmann::json::object());
  return doc.value("kind", "") == workload.kind() && metadata.is_object() &&
         metadata.value("name", "") == workload.name();
}

}  // namespace

PullRequestOpener::PullRequestOpener(IncidentStore& store, Repository& repository, Forge& forge,
                                     Clock& clock, PullRequestOpenerOptions options)
    : store_(store),
      repository_(repository),
      forge_(forge),
      clock_(clock),
      options_(std::move(options)) {}

std::string PullRequestOpener::BranchName(const std::string& incident_id) const {
  return absl::StrCat(options_.branch_prefix, incident_id);
}

absl::StatusOr<v1::FixAttempt> PullRequestOpener::ResolveAttempt(
    const std::string& incident_id, const std::string& fix_attempt_id) {
  if (incident_id.empty() && fix_attempt_id.empty()) {
    return absl::InvalidArgumentError("give an incident_id or a fix_attempt_id");
  }
  if (!fix_attempt_id.empty()) {
    ASSIGN_OR_RETURN(v1::FixAttempt attempt, store_.GetFixAttempt(fix_attempt_id));
    if (!incident_id.empty() && attempt.incident_id() != incident_id) {
      return absl::InvalidArgumentError(absl::StrCat("fix attempt ", fix_attempt_id,
                                                     " belongs to incident ", attempt.incident_id(),
                                                     ", not ", incident_id));
    }
    return attempt;
  }
  ASSIGN_OR_RETURN(std::vector<v1::FixAttempt> attempts, store_.ListFixAttempts(incident_id));
  for (auto it = attempts.rbegin(); it != attempts.rend(); ++it) {
    if (it->status() == v1::FIX_STATUS_VERIFIED) return *it;
  }
  return absl::FailedPreconditionError(
      absl::StrCat("incident ", incident_id, " has no verified fix attempt (", attempts.size(),
                   " attempt(s)); only a fix verified on the cluster becomes a pull request"));
}

absl::StatusOr<std::optional<v1::PullRequest>> PullRequestOpener::ExistingPullRequest(
    const v1::Incident& incident) {
  if (!incident.pull_request_id().empty()) {
    absl::StatusOr<v1::PullRequest> pr = store_.GetPullRequest(incident.pull_request_id());
    if (pr.ok()) return *pr;
    if (!absl::IsNotFound(pr.status())) return pr.status();
  }
  ASSIGN_OR_RETURN(PullRequestPage page, store_.ListPullRequests(incident.id(), 1, ""));
  if (!page.pull_requests.empty()) return page.pull_requests.front();
  return std::nullopt;
}

absl::Status PullRequestOpener::SaveCheckpoint(const std::string& incident_id,
                                               Checkpoint& checkpoint, const std::string& stage) {
  checkpoint.stage = stage;
  nlohmann::json value = {{"stage", checkpoint.stage},    {"attempt_id", checkpoint.attempt_id},
                          {"branch", checkpoint.branch},  {"base_commit", checkpoint.base_commit},
                          {"commit", checkpoint.commit},  {"time", checkpoint.time},
                          {"message", checkpoint.message}};
  RETURN_IF_ERROR(store_.PutValue(CheckpointKey(incident_id), value.dump()));
  if (options_.fail_point) RETURN_IF_ERROR(options_.fail_point(stage));
  return absl::OkStatus();
}

absl::StatusOr<std::string> PullRequestOpener::EditedManifest(const v1::FixAttempt& attempt,
                                                              const std::string& base_commit,
                                                              std::string* path) {
  *path = attempt.manifest_path();
  int document = attempt.manifest_document();
  absl::StatusOr<std::string> text = repository_.ReadFile(base_commit, *path);
  bool relocate = false;
  if (!text.ok()) {
    if (!absl::IsNotFound(text.status())) return text.status();
    relocate = true;
  } else {
    ASSIGN_OR_RETURN(std::vector<nlohmann::json> documents, manifest::ParseYamlDocuments(*text));
    relocate = document < 0 || static_cast<size_t>(document) >= documents.size() ||
               !WorkloadMatches(documents[document], attempt.workload());
  }
  if (relocate) {
    // The base branch moved since the manifest was read: find the workload again.
    if (attempt.workload().kind().empty() || attempt.workload().name().empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          attempt.manifest_path(), " document ", document, " changed on ", options_.base_branch,
          " since the fix was made and the attempt names no workload to find it again"));
    }
    ManifestLocator locator(repository_, {});
    ASSIGN_OR_RETURN(LocatedManifest located,
                     locator.LocateAt(base_commit, {"", attempt.workload().kind(),
                                                    attempt.workload().namespace_(),
                                                    attempt.workload().name()}));
    LogInfo("manifest moved on the base branch; using its new place",
            {{"from", attempt.manifest_path()}, {"to", located.path}});
    *path = located.path;
    document = located.document_index;
    text = located.text;
  }
  std::vector<manifest::TextChange> changes;
  for (const v1::FieldChange& change : attempt.changes()) {
    absl::StatusOr<manifest::FieldPath> field = manifest::ParseFieldPath(change.path());
    if (!field.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("fix attempt ", attempt.id(),
                                                     ": bad field path '", change.path(),
                                                     "': ", field.status().message()));
    }
    nlohmann::json value = change.new_value_json().empty()
                               ? nlohmann::json(nullptr)
                               : nlohmann::json::parse(change.new_value_json(), nullptr, false);
    if (value.is_discarded()) {
      return absl::InvalidArgumentError(absl::StrCat("fix attempt ", attempt.id(),
                                                     ": the new value of ", change.path(),
                                                     " is not JSON: ", change.new_value_json()));
    }
    changes.push_back({*std::move(field), std::move(value)});
  }
  ASSIGN_OR_RETURN(std::string edited, manifest::ApplyChangesToYamlText(*text, document, changes));
  if (edited == *text) {
    return absl::FailedPreconditionError(
        absl::StrCat(options_.base_branch, " already contains the change of fix attempt ",
                     attempt.id(), " in ", *path, ": nothing to propose"));
  }
  return edited;
}

absl::Status PullRequestOpener::Commit(const v1::Incident& incident, const v1::FixAttempt& attempt,
                                       Checkpoint& checkpoint) {
  const std::string branch = BranchName(incident.id());
  if (checkpoint.stage.empty()) {
    // No checkpoint. A branch on the remote can only be ours if its commit says so (a store that
    // lost its values, or a PR flow run elsewhere with the same store).
    absl::StatusOr<std::string> remote = repository_.RemoteBranchCommit(branch);
    if (remote.ok()) {
      ASSIGN_OR_RETURN(CommitInfo info, repository_.GetCommit(*remote));
      if (!absl::StrContains(info.message, IncidentTrailer(incident.id())) ||
          info.parents.empty()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "branch ", branch, " already exists on ", repository_.RemoteUrl(),
            " with commits Remediator did not make; delete it or choose another branch prefix"));
      }
      checkpoint = {"",          attempt.id(),
                    branch,      info.parents[0],
                    *remote,     absl::ToUnixSeconds(info.time),
                    info.message};
      return SaveCheckpoint(incident.id(), checkpoint, "pushed");
    }
    if (!absl::IsNotFound(remote.status())) return remote.status();
    absl::StatusOr<std::string> base = repository_.RemoteBranchCommit(options_.base_branch);
    if (absl::IsNotFound(base.status())) {
      return absl::FailedPreconditionError(absl::StrCat("the base branch ", options_.base_branch,
                                                        " is not on ", repository_.RemoteUrl()));
    }
    if (!base.ok()) return base.status();
    checkpoint.attempt_id = attempt.id();
    checkpoint.branch = branch;
    checkpoint.base_commit = *base;
    checkpoint.time = absl::ToUnixSeconds(clock_.Now());
    checkpoint.message = BuildPrContent(incident, attempt, "", options_.labels).commit_message;
  }
  // Stage "committed" (or new): (re)create the commit. Its id is a function of the checkpointed
  // inputs, so after a lost local copy it comes out identical.
  std::string path;
  ASSIGN_OR_RETURN(std::string edited, EditedManifest(attempt, checkpoint.base_commit, &path));
  CommitRequest request;
  request.branch = branch;
  request.parent = checkpoint.base_commit;
  request.files = {{path, std::move(edited)}};
  request.message = checkpoint.message;
  request.author = options_.author;
  request.time = absl::FromUnixSeconds(checkpoint.time);
  ASSIGN_OR_RETURN(std::string commit, repository_.CreateCommit(request));
  if (!checkpoint.commit.empty() && checkpoint.commit != commit) {
    return absl::InternalError(absl::StrCat("re-created commit ", commit,
                                            " differs from the checkpointed ", checkpoint.commit,
                                            " for incident ", incident.id()));
  }
  checkpoint.commit = commit;
  return SaveCheckpoint(incident.id(), checkpoint, "committed");
}

absl::Status PullRequestOpener::EnsurePushed(const v1::Incident& incident,
                                             const v1::FixAttempt& attempt,
                                             Checkpoint& checkpoint) {
  (void)attempt;
  absl::StatusOr<std::string> remote = repository_.RemoteBranchCommit(checkpoint.branch);
  if (remote.ok() && *remote == checkpoint.commit) {
    LogInfo("branch already pushed; reusing it",
            {{"branch", checkpoint.branch}, {"commit", checkpoint.commit}});
  } else if (remote.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "branch ", checkpoint.branch, " on ", repository_.RemoteUrl(), " points at ", *remote,
        ", not at Remediator's commit ", checkpoint.commit, "; it was changed by someone else"));
  } else if (!absl::IsNotFound(remote.status())) {
    return remote.status();
  } else {
    RETURN_IF_ERROR(repository_.Push(checkpoint.branch));
  }
  return SaveCheckpoint(incident.id(), checkpoint, "pushed");
}

absl::StatusOr<v1::PullRequest> PullRequestOpener::OpenAndRecord(const v1::Incident& incident,
                                                                 const v1::FixAttempt& attempt,
                                                                 Checkpoint& checkpoint) {
  ASSIGN_OR_RETURN(ChangeSummary summary,
                   repository_.Summarize(checkpoint.base_commit, checkpoint.commit));
  PrContent content = BuildPrContent(incident, attempt, summary.patch, options_.labels);
  PullRequestSpec spec;
  spec.head_branch = checkpoint.branch;
  spec.base_branch = options_.base_branch;
  spec.head_commit = checkpoint.commit;
  spec.title = content.title;
  spec.body = content.body;
  spec.labels = content.labels;
  ASSIGN_OR_RETURN(OpenedPullRequest opened, forge_.OpenPullRequest(spec));
  if (options_.fail_point) RETURN_IF_ERROR(options_.fail_point("forge_opened"));
  if (opened.existed) {
    LogInfo("pull request already open; reusing it",
            {{"forge", forge_.Name()}, {"url", opened.url}, {"incident", incident.id()}});
  }
  v1::PullRequest record;
  record.set_id(absl::StrCat("pr-", incident.id()));
  record.set_incident_id(incident.id());
  record.set_fix_attempt_id(attempt.id());
  record.set_forge(forge_.Name());
  record.set_url(opened.url);
  record.set_number(opened.number);
  record.set_branch(checkpoint.branch);
  record.set_base_branch(options_.base_branch);
  record.set_commit(checkpoint.commit);
  record.set_title(opened.title.empty() ? content.title : opened.title);
  record.set_body(opened.body.empty() ? content.body : opened.body);
  record.set_state(opened.state.empty() ? "open" : opened.state);
  *record.mutable_created() = ToProtoTime(clock_.Now());
  ASSIGN_OR_RETURN(v1::PullRequest stored, store_.PutPullRequest(record));
  RETURN_IF_ERROR(store_.LinkIncident(incident.id(), "", stored.id(), ""));
  if (incident.state() == v1::INCIDENT_STATE_VERIFIED) {
    absl::StatusOr<v1::Incident> moved = store_.TransitionIncident(
        incident.id(), v1::INCIDENT_STATE_VERIFIED, v1::INCIDENT_STATE_PR_OPENED,
        absl::StrCat("pull request ", stored.url()), clock_.Now());
    // Another worker may have moved it meanwhile; the PR is recorded either way.
    if (!moved.ok() && !absl::IsFailedPrecondition(moved.status())) return moved.status();
  }
  RETURN_IF_ERROR(SaveCheckpoint(incident.id(), checkpoint, "opened"));
  LogInfo("pull request opened", {{"incident", incident.id()},
                                  {"forge", forge_.Name()},
                                  {"url", stored.url()},
                                  {"branch", stored.branch()}});
  return stored;
}

absl::StatusOr<v1::PullRequest> PullRequestOpener::Open(const std::string& incident_id,
                                                        const std::string& fix_attempt_id) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(v1::FixAttempt attempt, ResolveAttempt(incident_id, fix_attempt_id));
  ASSIGN_OR_RETURN(v1::Incident incident, store_.GetIncident(attempt.incident_id()));
  ASSIGN_OR_RETURN(std::optional<v1::PullRequest> existing, ExistingPullRequest(incident));
  if (existing.has_value()) {
    if (incident.pull_request_id().empty()) {
      RETURN_IF_ERROR(store_.LinkIncident(incident.id(), "", existing->id(), ""));
    }
    return *existing;
  }

  Checkpoint checkpoint;
  ASSIGN_OR_RETURN(std::optional<std::string> saved, store_.GetValue(CheckpointKey(incident.id())));
  if (saved.has_value()) {
    nlohmann::json value = nlohmann::json::parse(*saved, nullptr, false);
    if (!value.is_object()) {
      return absl::DataLossError(
          absl::StrCat("checkpoint ", CheckpointKey(incident.id()), " is not JSON"));
    }
    checkpoint = {value.value("stage", ""),  value.value("attempt_id", ""),
                  value.value("branch", ""), value.value("base_commit", ""),
                  value.value("commit", ""), value.value("time", int64_t{0}),
                  value.value("message", "")};
    // Once a commit exists for the incident, it is the one proposed, whichever attempt asks.
    if (!checkpoint.attempt_id.empty() && checkpoint.attempt_id != attempt.id()) {
      ASSIGN_OR_RETURN(attempt, store_.GetFixAttempt(checkpoint.attempt_id));
    }
  }

  if (attempt.status() != v1::FIX_STATUS_VERIFIED) {
    return absl::FailedPreconditionError(
        absl::StrCat("fix attempt ", attempt.id(), " is ", FixStatusName(attempt.status()),
                     "; only a fix verified on the cluster becomes a pull request"));
  }
  if (attempt.manifest_path().empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "fix attempt ", attempt.id(), " edited the manifest read from the live object (source \"",
        attempt.manifest_source().empty() ? "live" : attempt.manifest_source(),
        "\"): the workload's manifest is not in the GitOps repository, so no pull request is "
        "possible"));
  }
  if (attempt.changes().empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("fix attempt ", attempt.id(), " records no field changes to commit"));
  }

  RETURN_IF_ERROR(repository_.Fetch());
  if (checkpoint.stage.empty() || checkpoint.stage == "committed") {
    RETURN_IF_ERROR(Commit(incident, attempt, checkpoint));
  }
  if (checkpoint.stage == "committed") {
    RETURN_IF_ERROR(EnsurePushed(incident, attempt, checkpoint));
  }
  return OpenAndRecord(incident, attempt, checkpoint);
}

}  // namespace remediator::pr
