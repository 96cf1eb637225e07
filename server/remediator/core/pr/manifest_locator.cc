#include "server/remediator/core/pr/manifest_locator.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "server/common/logging.h"
#include "server/common/status_macros.h"
#include "server/remediator/core/manifest/yaml_text_edit.h"

namespace remediator::pr {
namespace {

struct Candidate {
  std::string path;
  int document = 0;
  bool namespace_matched = false;
};

std::string Field(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

ManifestLocator::ManifestLocator(Repository& repository, ManifestLocatorOptions options)
    : repository_(repository), options_(std::move(options)) {}

absl::StatusOr<LocatedManifest> ManifestLocator::Locate(const ManifestQuery& query) {
  RETURN_IF_ERROR(repository_.Fetch());
  ASSIGN_OR_RETURN(std::string commit, repository_.RemoteBranchCommit(options_.branch));
  return LocateAt(commit, query);
}

absl::StatusOr<LocatedManifest> ManifestLocator::LocateAt(const std::string& commit,
                                                          const ManifestQuery& query) {
  if (query.kind.empty() || query.name.empty()) {
    return absl::InvalidArgumentError("locating a manifest needs a kind and a name");
  }
  std::set<std::string> files;
  for (const std::string& directory : options_.directories) {
    ASSIGN_OR_RETURN(std::vector<std::string> listed, repository_.ListFiles(commit, directory));
    for (std::string& file : listed) {
      for (const std::string& extension : options_.extensions) {
        if (absl::EndsWith(file, extension)) {
          files.insert(std::move(file));
          break;
        }
      }
    }
  }
  std::vector<Candidate> candidates;
  for (const std::string& path : files) {
    ASSIGN_OR_RETURN(std::string text, repository_.ReadFile(commit, path));
    absl::StatusOr<std::vector<nlohmann::json>> documents = manifest::ParseYamlDocuments(text);
    if (!documents.ok()) {
      LogDebug("skipping a file that is not YAML",
               {{"path", path}, {"error", std::string(documents.status().message())}});
      continue;
    }
    for (size_t i = 0; i < documents->size(); ++i) {
      const nlohmann::json& doc = (*documents)[i];
      if (!doc.is_object()) continue;
      if (Field(doc, "kind") != query.kind) continue;
      const nlohmann::json metadata = doc.value("metadata", nlohmann::json::object());
      if (Field(metadata, "name") != query.name) continue;
      std::string api_version = Field(doc, "apiVersion");
      if (!query.api_version.empty() && !api_version.empty() && api_version != query.api_version) {
        continue;
      }
      std::string ns = Field(metadata, "namespace");
      if (!ns.empty() && ns != query.namespace_name) continue;
      candidates.push_back({path, static_cast<int>(i), !ns.empty()});
    }
  }
  std::string what = absl::StrCat(
      query.kind, " ", query.namespace_name.empty() ? "" : query.namespace_name + "/", query.name);
  bool any_namespaced = false;
  for (const Candidate& c : candidates) any_namespaced |= c.namespace_matched;
  std::vector<Candidate> best;
  for (const Candidate& c : candidates) {
    if (c.namespace_matched == any_namespaced) best.push_back(c);
  }
  if (best.empty()) {
    return absl::NotFoundError(
        absl::StrCat("no manifest for ", what, " in ", files.size(), " YAML file(s) under [",
                     absl::StrJoin(options_.directories, ", ",
                                   [](std::string* out, const std::string& d) {
                                     absl::StrAppend(out, d.empty() ? "/" : d);
                                   }),
                     "] at commit ", commit.substr(0, 12)));
  }
  if (best.size() > 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("ambiguous: ", what, " is declared ", best.size(), " times: ",
                     absl::StrJoin(best, ", ",
                                   [](std::string* out, const Candidate& c) {
                                     absl::StrAppend(out, c.path, "#", c.document);
                                   }),
                     "; restrict the searched directories"));
  }
  LocatedManifest located;
  located.path = best[0].path;
  located.document_index = best[0].document;
  located.commit = commit;
  ASSIGN_OR_RETURN(located.text, repository_.ReadFile(commit, located.path));
  return located;
}

}  // namespace remediator::pr
