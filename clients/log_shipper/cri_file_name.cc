#include "clients/log_shipper/cri_file_name.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace remediator::log_shipper {

absl::StatusOr<PodIdentity> ParseCriLogFileName(const std::string& path) {
  std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  auto bad = [&](const char* why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "log file name \"", path, "\" is not <pod>_<namespace>_<container>-<id>.log: ", why));
  };
  constexpr char kSuffix[] = ".log";
  if (base.size() < 5 || base.compare(base.size() - 4, 4, kSuffix) != 0) {
    return bad("no .log suffix");
  }
  base.resize(base.size() - 4);
  // Pod names and namespaces are DNS labels/subdomains: they hold no '_'.
  size_t first = base.find('_');
  size_t second = first == std::string::npos ? first : base.find('_', first + 1);
  if (second == std::string::npos) return bad("fewer than two '_'");
  size_t dash = base.rfind('-');
  if (dash == std::string::npos || dash <= second + 1) return bad("no -<container id>");
  std::string id = base.substr(dash + 1);
  if (id.empty()) return bad("empty container id");
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return bad("container id is not hex");
  }
  PodIdentity identity;
  identity.pod = base.substr(0, first);
  identity.namespace_name = base.substr(first + 1, second - first - 1);
  identity.container = base.substr(second + 1, dash - second - 1);
  if (identity.pod.empty() || identity.namespace_name.empty()) return bad("empty pod or namespace");
  return identity;
}

}  // namespace remediator::log_shipper
