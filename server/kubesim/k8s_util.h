// Small Kubernetes vocabulary helpers: quantities, label/field selectors, the kubectl-style age
// text, timestamps and name suffixes. Pure functions, no state.
#ifndef REMEDIATOR_SERVER_KUBESIM_K8S_UTIL_H_
#define REMEDIATOR_SERVER_KUBESIM_K8S_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

namespace remediator::kubesim {

using nlohmann::json;

// "12Mi" -> 12582912, "1G" -> 1e9, "128974848" -> 128974848, "1.5Gi" -> ... InvalidArgument when
// the text is not a Kubernetes quantity.
absl::StatusOr<int64_t> ParseQuantity(const std::string& text);
// "500m" -> 500, "2" -> 2000 (millicores).
absl::StatusOr<int64_t> ParseCpuMillis(const std::string& text);
// A quantity from a JSON value (string or number); `fallback` when null/absent/invalid.
int64_t QuantityOr(const json& value, int64_t fallback);
// Bytes as a short human text, "12Mi".
std::string FormatBytes(int64_t bytes);

// kubectl's duration.HumanDuration ("5s", "2m30s", "3h", "4d").
std::string HumanDuration(absl::Duration d);
// Go's time.Duration.String() for whole seconds: "10s", "1m20s", "5m0s", "1h0m0s".
std::string GoDuration(absl::Duration d);
// RFC 3339 with second precision and "Z": "2026-11-26T07:00:00Z".
std::string Rfc3339(absl::Time t);
// RFC 3339 with microseconds (MicroTime): "2026-11-26T07:00:00.123456Z".
std::string Rfc3339Micro(absl::Time t);
absl::Time ParseRfc3339(const std::string& text, absl::Time fallback);

// A label selector ("a=b,c!=d,e in (x,y),f notin (z),g,!h").
class LabelSelector {
 public:
  static absl::StatusOr<LabelSelector> Parse(const std::string& text);
  // From a metav1.LabelSelector object ({matchLabels, matchExpressions}).
  static LabelSelector FromJson(const json& selector);
  bool Matches(const json& labels) const;
  bool empty() const { return terms_.empty(); }

 private:
  struct Term {
    enum Op { kEq, kNotEq, kIn, kNotIn, kExists, kNotExists } op;
    std::string key;
    std::vector<std::string> values;
  };
  std::vector<Term> terms_;
};

// A field selector ("metadata.name=x,involvedObject.kind!=Pod"), matched on dotted paths.
class FieldSelector {
 public:
  static absl::StatusOr<FieldSelector> Parse(const std::string& text);
  bool Matches(const json& object) const;

 private:
  struct Term {
    std::string path;
    std::string value;
    bool negate;
  };
  std::vector<Term> terms_;
};

// The string at a dotted path ("metadata.name"); "" when missing.
std::string StringAtPath(const json& object, const std::string& dotted);

// Random lower-case alphanumerics as the apiserver uses for generateName ("x7k2p").
std::string RandomSuffix(int length);
// A random RFC 4122 version-4 UUID.
std::string RandomUuid();
// Encodes a 32-bit hash with the "bcdfghjklmnpqrstvwxz2456789" alphabet (pod-template-hash).
std::string SafeEncodeHash(uint32_t hash);
uint32_t Fnv32a(const std::string& data);

// Removes nulls and empty objects recursively (to compare templates that differ only in those).
json Normalize(const json& value);

}  // namespace remediator::kubesim

#endif  // REMEDIATOR_SERVER_KUBESIM_K8S_UTIL_H_
