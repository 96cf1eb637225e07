#include "server/remediator/core/pr/repository_manifest_source.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "server/common/status_macros.h"
#include "server/remediator/core/manifest/yaml_text_edit.h"

namespace remediator::pr {

RepositoryManifestSource::RepositoryManifestSource(Repository& repository,
                                                   ManifestLocatorOptions options)
    : locator_(repository, std::move(options)) {}

absl::StatusOr<remediation::ManifestRecord> RepositoryManifestSource::Find(
    const v1::WorkloadRef& workload) {
  ASSIGN_OR_RETURN(LocatedManifest located,
                   locator_.Locate({"", workload.kind(), workload.namespace_(), workload.name()}));
  ASSIGN_OR_RETURN(std::vector<nlohmann::json> documents,
                   manifest::ParseYamlDocuments(located.text));
  if (located.document_index < 0 ||
      static_cast<size_t>(located.document_index) >= documents.size()) {
    return absl::InternalError(absl::StrCat("document ", located.document_index, " of ",
                                            located.path, " vanished between two reads"));
  }
  remediation::ManifestRecord record;
  record.object = std::move(documents[located.document_index]);
  record.path = std::move(located.path);
  record.document = located.document_index;
  record.text = std::move(located.text);
  record.commit = std::move(located.commit);
  return record;
}

}  // namespace remediator::pr
