#include "server/kubesim/reviews.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/kubesim/api_error.h"
#include "server/kubesim/k8s_util.h"

namespace remediator::kubesim {
namespace {

using nlohmann::json;

absl::StatusOr<AccessRequest> AttributesOf(const json& spec) {
  AccessRequest r;
  if (spec.contains("resourceAttributes") && spec["resourceAttributes"].is_object()) {
    const json& a = spec["resourceAttributes"];
    r.verb = a.value("verb", "");
    r.ns = a.value("namespace", "");
    r.group = a.value("group", "");
    r.resource = a.value("resource", "");
    r.subresource = a.value("subresource", "");
    r.name = a.value("name", "");
    return r;
  }
  if (spec.contains("nonResourceAttributes") && spec["nonResourceAttributes"].is_object()) {
    r.resource_request = false;
    r.verb = spec["nonResourceAttributes"].value("verb", "");
    r.path = spec["nonResourceAttributes"].value("path", "");
    return r;
  }
  return InvalidError("SubjectAccessReview.authorization.k8s.io", "",
                      {{"spec.resourceAttributes",
                        "Invalid value: \"null\": exactly one of nonResourceAttributes or "
                        "resourceAttributes must be specified",
                        "FieldValueInvalid"}});
}

json Envelope(const std::string& group, const std::string& kind, const json& spec) {
  return {{"kind", kind},
          {"apiVersion", group + "/v1"},
          {"metadata", {{"creationTimestamp", nullptr}}},
          {"spec", spec}};
}

std::string Base64Url(const std::string& text) {
  std::string out;
  absl::WebSafeBase64Escape(text, &out);
  return out;
}

}  // namespace

absl::StatusOr<json> AnswerReview(const Store& store, const UserInfo& requester,
                                  const std::string& group, const std::string& resource,
                                  const std::string& ns, const json& body) {
  json spec = body.is_object() ? body.value("spec", json::object()) : json::object();
  if (group == "authentication.k8s.io" && resource == "selfsubjectreviews") {
    json out = Envelope(group, "SelfSubjectReview", nullptr);
    out.erase("spec");
    out["status"] = {{"userInfo", {{"username", requester.name}, {"groups", requester.groups}}}};
    return out;
  }
  if (group != "authorization.k8s.io") {
    return ApiError(404, "NotFound", "the server could not find the requested resource");
  }
  if (resource == "selfsubjectrulesreviews") {
    json out = Envelope(group, "SelfSubjectRulesReview", spec);
    out["status"] = RulesFor(store, requester, spec.value("namespace", ""));
    return out;
  }
  UserInfo user = requester;
  std::string kind = "SelfSubjectAccessReview";
  if (resource == "subjectaccessreviews" || resource == "localsubjectaccessreviews") {
    kind = resource == "subjectaccessreviews" ? "SubjectAccessReview" : "LocalSubjectAccessReview";
    user = {spec.value("user", ""), spec.value("groups", std::vector<std::string>{})};
  } else if (resource != "selfsubjectaccessreviews") {
    return ApiError(404, "NotFound", "the server could not find the requested resource");
  }
  auto access = AttributesOf(spec);
  if (!access.ok()) return access.status();
  if (!ns.empty()) access->ns = ns;
  Decision d = Authorize(store, user, *access);
  json out = Envelope(group, kind, spec);
  out["status"] = {{"allowed", d.allowed}};
  if (!d.reason.empty()) out["status"]["reason"] = d.reason;
  return out;
}

json IssueToken(const json& sa, const json& request, absl::Time now) {
  json spec = request.is_object() ? request.value("spec", json::object()) : json::object();
  int64_t seconds = spec.value("expirationSeconds", int64_t{3600});
  if (!spec.contains("audiences") || spec["audiences"].empty()) {
    spec["audiences"] = {"https://kubernetes.default.svc.cluster.local"};
  }
  spec["expirationSeconds"] = seconds;
  if (!spec.contains("boundObjectRef")) spec["boundObjectRef"] = nullptr;
  const json& meta = sa["metadata"];
  std::string ns = meta.value("namespace", ""), name = meta.value("name", "");
  int64_t iat = absl::ToUnixSeconds(now);
  json claims = {
      {"aud", spec["audiences"]},
      {"exp", iat + seconds},
      {"iat", iat},
      {"iss", "https://kubernetes.default.svc.cluster.local"},
      {"sub", absl::StrCat("system:serviceaccount:", ns, ":", name)},
      {"kubernetes.io",
       {{"namespace", ns}, {"serviceaccount", {{"name", name}, {"uid", meta.value("uid", "")}}}}}};
  // Signed by no key: kubesim does not verify service-account tokens.
  std::string token = absl::StrCat(Base64Url(R"({"alg":"RS256","kid":"kubesim"})"), ".",
                                   Base64Url(claims.dump()), ".", Base64Url("kubesim-unsigned"));
  json out = {{"kind", "TokenRequest"},
              {"apiVersion", "authentication.k8s.io/v1"},
              {"metadata", {{"name", name}, {"namespace", ns}, {"creationTimestamp", nullptr}}},
              {"spec", spec},
              {"status",
               {{"token", token}, {"expirationTimestamp", Rfc3339(now + absl::Seconds(seconds))}}}};
  return out;
}

}  // namespace remediator::kubesim
