// The filesystem playbooks:
//   writable-path  the container runs with readOnlyRootFilesystem and its logs say a write
//                  failed with "Read-only file system" on a path: an emptyDir (with a
//                  sizeLimit) is mounted on that path's directory.
//   config-subpath the runtime cannot mount a ConfigMap or Secret volume over a file
//                  ("... to rootfs at \"/etc/app/app.conf\" ... not a directory"): the mount
//                  gets subPath, the object's key named like the file (or its only key).
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/common/status_macros.h"
#include "server/remediator/core/manifest/json_access.h"
#include "server/remediator/core/remediation/playbooks/playbook.h"
#include "server/remediator/core/remediation/playbooks/playbook_util.h"

namespace remediator::remediation::playbooks {
namespace {

using json = nlohmann::json;
using manifest::At;
using manifest::PathSegment;
using manifest::Str;

bool IsTrue(const json& v) { return v.is_boolean() && v.get<bool>(); }

// The first absolute path in a log line that reports a read-only file system.
std::optional<std::string> ReadOnlyPath(const std::string& logs) {
  for (absl::string_view line : absl::StrSplit(logs, '\n')) {
    if (!absl::StrContains(absl::AsciiStrToLower(line), "read-only file system")) continue;
    for (absl::string_view word : absl::StrSplit(line, absl::ByAnyChar(" \t\"'`(),"))) {
      std::string path(word);
      while (!path.empty() && (path.back() == ':' || path.back() == '.')) path.pop_back();
      if (path.size() > 1 && path[0] == '/' && path.find("..") == std::string::npos) {
        return path;
      }
    }
  }
  return std::nullopt;
}

std::string Parent(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

// The directory to mount: the parent of the path written, unless that is "/" or a top-level
// directory that is not a scratch directory (mounting /app would hide the application).
std::string MountDirectory(const std::string& path) {
  const std::string parent = Parent(path);
  const bool top_level = parent.find('/', 1) == std::string::npos;
  const bool scratch = parent == "/tmp" || parent == "/run" || parent == "/var/tmp";
  return parent == "/" || (top_level && !scratch) ? path : parent;
}

std::string VolumeName(const std::string& directory) {
  std::string name = "writable";
  for (char c : directory) {
    name += absl::ascii_isalnum(static_cast<unsigned char>(c)) ? absl::ascii_tolower(c) : '-';
  }
  while (name.find("--") != std::string::npos) name.replace(name.find("--"), 2, "-");
  if (name.size() > 63) name.resize(63);
  while (!name.empty() && name.back() == '-') name.pop_back();
  return name;
}

absl::StatusOr<Proposal> MountWritablePath(const FixContext& context,
                                           const PlaybookOptions& options) {
  ASSIGN_OR_RETURN(Target target, TargetContainer(context));
  const bool read_only =
      IsTrue(At(At(*target.container, "securityContext"), "readOnlyRootFilesystem"));
  if (!read_only) {
    return NotApplicable("the root filesystem is not read-only (a read-only volume is)");
  }
  std::optional<std::string> path = ReadOnlyPath(Logs(context.evidence));
  if (!path) return NotApplicable("the logs name no path that could not be written");
  const std::string directory = MountDirectory(*path);
  for (const json& m : At(*target.container, "volumeMounts")) {
    const std::string mounted = Str(m, "mountPath");
    if (directory == mounted || absl::StartsWith(directory, mounted + "/")) {
      return NotApplicable(absl::StrCat(directory, " is on the volume mounted at ", mounted));
    }
  }
  const std::string volume = VolumeName(directory);
  const manifest::FieldPath pod_path = PodPath(context.manifest);
  Proposal proposal;
  proposal.strategy = "playbook/writable-path";
  const manifest::FieldPath v = Join(pod_path, {Key("volumes"), Named(volume)});
  proposal.changes.push_back({Join(v, {Key("emptyDir"), Key("sizeLimit")}), options.scratch_size,
                              absl::StrCat("scratch space for ", directory)});
  manifest::FieldPath mount = Join(target.path, {Key("volumeMounts")});
  mount.push_back({PathSegment::Kind::kSelector, "mountPath", directory, 0});
  proposal.changes.push_back(
      {Join(mount, {Key("name")}), volume, absl::StrCat("the container writes to ", *path)});
  proposal.explanation = absl::StrCat(
      "Container ", target.name, " runs with a read-only root filesystem and cannot write ", *path,
      " (its logs say so). The playbook mounts an emptyDir of ", options.scratch_size, " at ",
      directory, "; the root filesystem stays read-only.");
  return proposal;
}

absl::StatusOr<Proposal> AddSubPath(const FixContext& context, const PlaybookOptions&) {
  ASSIGN_OR_RETURN(Target target, TargetContainer(context));
  const std::string text = StatusText(context.evidence);
  if (!absl::StrContains(text, "not a directory")) {
    return NotApplicable("no mount over a file in the evidence");
  }
  std::optional<std::string> file = Between(text, "to rootfs at \"", "\"");
  if (!file) return NotApplicable("the runtime's message names no mount path");
  for (const json& m : At(*target.container, "volumeMounts")) {
    if (Str(m, "mountPath") != *file || m.contains("subPath")) continue;
    const json* volume = nullptr;
    for (const json& v : At(*target.pod, "volumes")) {
      if (Str(v, "name") == Str(m, "name")) volume = &v;
    }
    if (volume == nullptr) return NotApplicable("the mount names no volume");
    const bool secret = volume->contains("secret");
    const std::string object =
        secret ? Str(At(*volume, "secret"), "secretName") : Str(At(*volume, "configMap"), "name");
    const auto& objects =
        secret ? context.evidence.facts.secret_keys : context.evidence.facts.config_map_keys;
    const auto found = objects.find(object);
    if (object.empty() || found == objects.end()) {
      return NotApplicable("the volume is not a ConfigMap or Secret that exists");
    }
    const std::string base = file->substr(file->rfind('/') + 1);
    std::string key;
    if (found->second.count(base) > 0) {
      key = base;
    } else if (found->second.size() == 1) {
      key = *found->second.begin();
    } else {
      return NotApplicable(
          absl::StrCat("which key of ", object, " belongs at ", *file, " is not known"));
    }
    manifest::FieldPath mount = Join(target.path, {Key("volumeMounts")});
    mount.push_back({PathSegment::Kind::kSelector, "mountPath", *file, 0});
    Proposal proposal;
    proposal.strategy = "playbook/config-subpath";
    proposal.changes.push_back(
        {Join(mount, {Key("subPath")}), key,
         absl::StrCat("mount only the key ", key, " over the file ", *file)});
    proposal.explanation = absl::StrCat("Container ", target.name, " cannot start: volume ",
                                        Str(m, "name"), " is mounted over the file ", *file,
                                        ", and a directory cannot replace a file. The "
                                        "playbook mounts only its key ",
                                        key, " there (subPath).");
    return proposal;
  }
  return NotApplicable(absl::StrCat("no mount without subPath at ", *file));
}

}  // namespace

extern const Playbook kMountWritablePath = {
    "writable-path",
    {v1::ERROR_CLASS_CRASH_LOOP, v1::ERROR_CLASS_APP_ERROR_LOG, v1::ERROR_CLASS_CONFIG_ERROR},
    MountWritablePath};
extern const Playbook kAddSubPath = {
    "config-subpath", {v1::ERROR_CLASS_CONFIG_ERROR, v1::ERROR_CLASS_CRASH_LOOP}, AddSubPath};

}  // namespace remediator::remediation::playbooks
