// RepositoryManifestSource: the remediation engine's ManifestSource over the GitOps repository,
// via ManifestLocator (fetch, then search the base branch's head).
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_PR_REPOSITORY_MANIFEST_SOURCE_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_PR_REPOSITORY_MANIFEST_SOURCE_H_

#include "server/remediator/core/pr/manifest_locator.h"
#include "server/remediator/core/remediation/manifest_source.h"
#include "server/remediator/core/repository.h"

namespace remediator::pr {

// Thread-safe (the Repository is; the locator keeps no state).
class RepositoryManifestSource final : public remediation::ManifestSource {
 public:
  // `repository` must outlive this.
  RepositoryManifestSource(Repository& repository, ManifestLocatorOptions options);

  // NotFound when no manifest declares the workload; FailedPrecondition ("ambiguous") when
  // several do equally well; InvalidArgument without kind or name; git errors as they come.
  absl::StatusOr<remediation::ManifestRecord> Find(const v1::WorkloadRef& workload) override;

 private:
  ManifestLocator locator_;
};

}  // namespace remediator::pr

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_PR_REPOSITORY_MANIFEST_SOURCE_H_
