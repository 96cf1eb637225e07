// ManifestLocator finds the file and YAML document that declare a workload in the GitOps
// repository, so that a fix can be written back to where the workload is defined.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_PR_MANIFEST_LOCATOR_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_PR_MANIFEST_LOCATOR_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/remediator/core/repository.h"

namespace remediator::pr {

struct ManifestQuery {
  // "apps/v1"; empty matches any. When both the query and a document name one, they must agree.
  std::string api_version;
  // "Deployment"; required.
  std::string kind;
  // Empty for cluster-scoped objects.
  std::string namespace_name;
  // metadata.name; required.
  std::string name;
};

struct LocatedManifest {
  // Relative to the repository root.
  std::string path;
  // 0-based index of the document in the file, as manifest::ParseYamlDocuments counts them.
  int document_index = 0;
  // The whole file.
  std::string text;
  // The commit it was read at.
  std::string commit;
};

struct ManifestLocatorOptions {
  // The branch whose head is searched (after a Fetch).
  std::string branch = "main";
  // Directories searched ("" = the whole repository).
  std::vector<std::string> directories = {""};
  // File name endings that are manifests.
  std::vector<std::string> extensions = {".yaml", ".yml"};
};

class ManifestLocator {
 public:
  // `repository` must outlive this.
  ManifestLocator(Repository& repository, ManifestLocatorOptions options);

  // Fetches, then searches the head of the configured branch. See LocateAt.
  absl::StatusOr<LocatedManifest> Locate(const ManifestQuery& query);

  // Searches every manifest file at `commit`. A document matches when kind and name are equal,
  // apiVersion agrees (when both have one) and its metadata.namespace equals the query's; a
  // document without a namespace (applied with `-n` or by kustomize) matches by kind and name,
  // but only when no document matches with the namespace too. InvalidArgument for a query
  // without kind or name; NotFound when nothing matches (naming what was searched);
  // FailedPrecondition "ambiguous" listing every candidate (path#document) when more than one
  // matches equally well. Files that are not YAML (Helm templates...) are skipped.
  absl::StatusOr<LocatedManifest> LocateAt(const std::string& commit, const ManifestQuery& query);

 private:
  Repository& repository_;
  ManifestLocatorOptions options_;
};

}  // namespace remediator::pr

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_PR_MANIFEST_LOCATOR_H_
