// Message rules shared by the pod and event classifiers. Kubernetes message texts change between
// versions (k8s-failures.md §3.3), so these look for the stable fragments: scheduler plugin reason
// strings, runtime error bodies, eviction message templates (§3.2, §3.5, §3.6).
#include "re2/re2.h"
#include "server/remediator/core/detection/classifiers.h"

namespace remediator::detection::internal {

std::string StripCombinedPrefix(std::string message) {
  static constexpr std::string_view kPrefix = "(combined from similar events): ";
  if (message.compare(0, kPrefix.size(), kPrefix) == 0) message.erase(0, kPrefix.size());
  return message;
}

bool SchedulingFixableByManifest(const std::string& message) {
  // Blockers outside the manifest: extended resources (GPUs...), storage, node count/capacity.
  static const LazyRE2 kBlocker = {
      R"re(Insufficient [a-z0-9.-]+\.[a-z]+/[A-Za-z0-9._-]+|unbound immediate PersistentVolumeClaims|persistentvolumeclaim "[^"]*" not found|volume node affinity conflict|node\(s\) had volume node affinity conflict)re"};
  static const LazyRE2 kManifest = {
      R"re(Insufficient (?:cpu|memory|ephemeral-storage)\b|didn't match Pod's node affinity/selector|didn't match pod (?:anti-)?affinity rules|didn't match pod topology spread constraints|didn't satisfy existing pods anti-affinity rules|didn't have free ports for the requested pod ports)re"};
  if (RE2::PartialMatch(message, *kBlocker)) return false;
  return RE2::PartialMatch(message, *kManifest);
}

bool RegistryUnreachable(const std::string& message) {
  static const LazyRE2 kUnreachable = {
      R"re(i/o timeout|connection refused|no such host|connection reset by peer|TLS handshake timeout|network is unreachable|503 Service Unavailable|toomanyrequests)re"};
  return RE2::PartialMatch(message, *kUnreachable);
}

std::string EvictedContainer(const std::string& message) {
  static const LazyRE2 kContainer = {R"re(Container (\S+) (?:was using|exceeded))re"};
  std::string name;
  RE2::PartialMatch(message, *kContainer, &name);
  return name;
}

bool EvictionFixableByManifest(const std::string& message) {
  static const LazyRE2 kOwnUsage = {
      R"re(Container \S+ (?:was using|exceeded)|exceeds the total limit|Usage of EmptyDir volume)re"};
  return RE2::PartialMatch(message, *kOwnUsage);
}

std::string ContainerFromFieldPath(const std::string& field_path) {
  static const LazyRE2 kPath = {
      R"re(^spec\.(?:initContainers|containers|ephemeralContainers)\{([^}]+)\})re"};
  std::string name;
  RE2::PartialMatch(field_path, *kPath, &name);
  return name;
}

}  // namespace remediator::detection::internal
