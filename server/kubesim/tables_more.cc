#include "server/kubesim/tables_more.h"

#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/kubesim/k8s_util.h"

namespace remediator::kubesim {
namespace {

using nlohmann::json;

json Col(const std::string& name, int priority = 0, const std::string& type = "string") {
  return {{"name", name},
          {"type", type},
          {"format", name == "Name" ? "name" : ""},
          {"description", ""},
          {"priority", priority}};
}

std::string Name(const json& obj) { return obj["metadata"].value("name", ""); }

std::string Age(const json& obj, absl::Time now) {
  std::string ts = obj["metadata"].value("creationTimestamp", "");
  return ts.empty() ? "<unknown>" : HumanDuration(now - ParseRfc3339(ts, now));
}

std::string Text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

std::string OrNone(const std::string& s, const char* none = "<none>") {
  return s.empty() ? none : s;
}

std::string AccessModes(const json& modes) {
  static const auto* short_names =
      new std::map<std::string, std::string>{{"ReadWriteOnce", "RWO"},
                                             {"ReadOnlyMany", "ROX"},
                                             {"ReadWriteMany", "RWX"},
                                             {"ReadWriteOncePod", "RWOP"}};
  std::vector<std::string> out;
  for (const json& m : modes.is_array() ? modes : json::array()) {
    auto it = short_names->find(Text(m));
    out.push_back(it == short_names->end() ? Text(m) : it->second);
  }
  return absl::StrJoin(out, ",");
}

// "a,b,c + 2 more..." as the endpoints printers format long lists.
std::string FirstThree(const std::vector<std::string>& items, const char* empty) {
  if (items.empty()) return empty;
  std::vector<std::string> head(items.begin(), items.begin() + std::min<size_t>(3, items.size()));
  std::string out = absl::StrJoin(head, ",");
  if (items.size() > 3) absl::StrAppend(&out, " + ", items.size() - 3, " more...");
  return out;
}

std::string EndpointsText(const json& ep) {
  std::vector<std::string> items;
  for (const json& subset : ep.value("subsets", json::array())) {
    for (const json& addr : subset.value("addresses", json::array())) {
      for (const json& port : subset.value("ports", json::array())) {
        items.push_back(absl::StrCat(addr.value("ip", ""), ":", port.value("port", 0)));
      }
    }
  }
  return FirstThree(items, "<none>");
}

json SliceCells(const json& slice, absl::Time now) {
  std::vector<std::string> ports, addrs;
  for (const json& p : slice.value("ports", json::array())) {
    ports.push_back(std::to_string(p.value("port", 0)));
  }
  json endpoints = slice.value("endpoints", json());
  for (const json& e : endpoints.is_array() ? endpoints : json::array()) {
    for (const json& a : e.value("addresses", json::array())) addrs.push_back(Text(a));
  }
  return {Name(slice), slice.value("addressType", ""), FirstThree(ports, "<unset>"),
          FirstThree(addrs, "<unset>"), Age(slice, now)};
}

json BindingCells(const json& b, absl::Time now) {
  std::vector<std::string> users, groups, sas;
  for (const json& s : b.value("subjects", json::array())) {
    std::string kind = s.value("kind", "");
    if (kind == "User") users.push_back(s.value("name", ""));
    if (kind == "Group") groups.push_back(s.value("name", ""));
    if (kind == "ServiceAccount") {
      sas.push_back(s.value("namespace", "") + "/" + s.value("name", ""));
    }
  }
  const json& ref = b.value("roleRef", json::object());
  return {Name(b),
          ref.value("kind", "") + "/" + ref.value("name", ""),
          Age(b, now),
          absl::StrJoin(users, ", "),
          absl::StrJoin(groups, ", "),
          absl::StrJoin(sas, ", ")};
}

json JobCells(const json& job, absl::Time now) {
  const json& spec = job.value("spec", json::object());
  const json& status = job.value("status", json::object());
  std::string state = spec.value("suspend", false) ? "Suspended" : "Running";
  for (const json& c : status.value("conditions", json::array())) {
    if (c.value("status", "") != "True") continue;
    std::string t = c.value("type", "");
    if (t == "Complete") state = "Complete";
    if (t == "Failed") state = "Failed";
  }
  std::string duration;
  std::string start = status.value("startTime", "");
  if (!start.empty()) {
    std::string end = status.value("completionTime", "");
    absl::Time until = end.empty() ? now : ParseRfc3339(end, now);
    duration = HumanDuration(until - ParseRfc3339(start, now));
  }
  json tspec = spec.value("template", json::object()).value("spec", json::object());
  std::vector<std::string> names, images;
  for (const json& c : tspec.value("containers", json::array())) {
    names.push_back(c.value("name", ""));
    images.push_back(c.value("image", ""));
  }
  return {Name(job),
          state,
          absl::StrCat(status.value("succeeded", 0), "/", spec.value("completions", 1)),
          duration,
          Age(job, now),
          absl::StrJoin(names, ","),
          absl::StrJoin(images, ","),
          "<none>"};
}

json CronJobCells(const json& cj, absl::Time now) {
  const json& spec = cj.value("spec", json::object());
  const json& status = cj.value("status", json::object());
  std::string last = status.value("lastScheduleTime", "");
  json tspec = spec.value("jobTemplate", json::object())
                   .value("spec", json::object())
                   .value("template", json::object())
                   .value("spec", json::object());
  std::vector<std::string> names, images;
  for (const json& c : tspec.value("containers", json::array())) {
    names.push_back(c.value("name", ""));
    images.push_back(c.value("image", ""));
  }
  return {Name(cj),
          spec.value("schedule", ""),
          OrNone(spec.value("timeZone", "")),
          spec.value("suspend", false) ? "True" : "False",
          status.value("active", json::array()).size(),
          last.empty() ? "<none>" : HumanDuration(now - ParseRfc3339(last, now)),
          Age(cj, now),
          absl::StrJoin(names, ","),
          absl::StrJoin(images, ","),
          "<none>"};
}

json QuotaCells(const json& q, absl::Time now) {
  const json& status = q.value("status", json::object());
  json hard = status.value("hard", q.value("spec", json::object()).value("hard", json::object()));
  json used = status.value("used", json::object());
  std::vector<std::string> requests, limits;
  for (auto& [k, v] : hard.items()) {
    std::string u = used.contains(k) ? Text(used[k]) : "0";
    std::string text = absl::StrCat(k, ": ", u, "/", Text(v));
    (k.rfind("limits.", 0) == 0 ? limits : requests).push_back(text);
  }
  return {Name(q), Age(q, now), absl::StrJoin(requests, ", "), absl::StrJoin(limits, ", ")};
}

json IngressCells(const json& ing, absl::Time now) {
  const json& spec = ing.value("spec", json::object());
  std::vector<std::string> hosts;
  for (const json& r : spec.value("rules", json::array())) {
    hosts.push_back(r.value("host", "*"));
  }
  std::vector<std::string> addrs;
  const json& lb = ing.value("status", json::object()).value("loadBalancer", json::object());
  for (const json& i : lb.value("ingress", json::array())) {
    addrs.push_back(i.value("ip", i.value("hostname", "")));
  }
  return {Name(ing),
          OrNone(spec.value("ingressClassName", "")),
          hosts.empty() ? "*" : absl::StrJoin(hosts, ","),
          absl::StrJoin(addrs, ","),
          spec.value("tls", json::array()).empty() ? "80" : "80, 443",
          Age(ing, now)};
}

}  // namespace

bool MoreColumns(const std::string& r, json* cols) {
  if (r == "persistentvolumeclaims") {
    *cols = {Col("Name"),
             Col("Status"),
             Col("Volume"),
             Col("Capacity"),
             Col("Access Modes"),
             Col("StorageClass"),
             Col("VolumeAttributesClass"),
             Col("Age"),
             Col("VolumeMode", 1)};
  } else if (r == "persistentvolumes") {
    *cols = {Col("Name"),   Col("Capacity"), Col("Access Modes"), Col("Reclaim Policy"),
             Col("Status"), Col("Claim"),    Col("StorageClass"), Col("VolumeAttributesClass"),
             Col("Reason"), Col("Age"),      Col("VolumeMode", 1)};
  } else if (r == "storageclasses") {
    *cols = {Col("Name"),
             Col("Provisioner"),
             Col("ReclaimPolicy"),
             Col("VolumeBindingMode"),
             Col("AllowVolumeExpansion"),
             Col("Age")};
  } else if (r == "endpoints") {
    *cols = {Col("Name"), Col("Endpoints"), Col("Age")};
  } else if (r == "endpointslices") {
    *cols = {Col("Name"), Col("AddressType"), Col("Ports"), Col("Endpoints"), Col("Age")};
  } else if (r == "roles" || r == "clusterroles") {
    *cols = {Col("Name"), Col("Created At")};
  } else if (r == "rolebindings" || r == "clusterrolebindings") {
    *cols = {Col("Name"),     Col("Role"),      Col("Age"),
             Col("Users", 1), Col("Groups", 1), Col("ServiceAccounts", 1)};
  } else if (r == "jobs") {
    *cols = {Col("Name"), Col("Status"),        Col("Completions"), Col("Duration"),
             Col("Age"),  Col("Containers", 1), Col("Images", 1),   Col("Selector", 1)};
  } else if (r == "cronjobs") {
    *cols = {Col("Name"),
             Col("Schedule"),
             Col("Timezone"),
             Col("Suspend"),
             Col("Active", 0, "integer"),
             Col("Last Schedule"),
             Col("Age"),
             Col("Containers", 1),
             Col("Images", 1),
             Col("Selector", 1)};
  } else if (r == "resourcequotas") {
    *cols = {Col("Name"), Col("Age"), Col("Request"), Col("Limit")};
  } else if (r == "poddisruptionbudgets") {
    *cols = {Col("Name"), Col("Min Available"), Col("Max Unavailable"),
             Col("Allowed Disruptions", 0, "integer"), Col("Age")};
  } else if (r == "priorityclasses") {
    *cols = {Col("Name"), Col("Value", 0, "integer"), Col("Global-Default", 0, "boolean"),
             Col("Age"), Col("PreemptionPolicy")};
  } else if (r == "ingresses") {
    *cols = {Col("Name"), Col("Class"), Col("Hosts"), Col("Address"), Col("Ports"), Col("Age")};
  } else if (r == "serviceaccounts") {
    *cols = {Col("Name"), Col("Secrets", 0, "integer"), Col("Age")};
  } else {
    return false;
  }
  return true;
}

bool MoreCells(const std::string& r, const json& obj, absl::Time now, json* cells) {
  const json& spec = obj.value("spec", json::object());
  const json& status = obj.value("status", json::object());
  if (r == "persistentvolumeclaims") {
    *cells = {Name(obj),
              status.value("phase", "Pending"),
              spec.value("volumeName", ""),
              Text(status.value("capacity", json::object()).value("storage", json())),
              AccessModes(status.value("accessModes", json::array())),
              spec.value("storageClassName", ""),
              OrNone(spec.value("volumeAttributesClassName", ""), "<unset>"),
              Age(obj, now),
              spec.value("volumeMode", "Filesystem")};
  } else if (r == "persistentvolumes") {
    const json& ref = spec.value("claimRef", json::object());
    std::string claim = ref.empty() ? "" : ref.value("namespace", "") + "/" + ref.value("name", "");
    *cells = {Name(obj),
              Text(spec.value("capacity", json::object()).value("storage", json())),
              AccessModes(spec.value("accessModes", json::array())),
              spec.value("persistentVolumeReclaimPolicy", ""),
              status.value("phase", "Pending"),
              claim,
              spec.value("storageClassName", ""),
              OrNone(spec.value("volumeAttributesClassName", ""), "<unset>"),
              status.value("reason", ""),
              Age(obj, now),
              spec.value("volumeMode", "Filesystem")};
  } else if (r == "storageclasses") {
    std::string name = Name(obj);
    const json& ann = obj["metadata"].value("annotations", json::object());
    if (ann.value("storageclass.kubernetes.io/is-default-class", "") == "true") {
      name += " (default)";
    }
    *cells = {name,
              obj.value("provisioner", ""),
              obj.value("reclaimPolicy", "Delete"),
              obj.value("volumeBindingMode", "Immediate"),
              obj.value("allowVolumeExpansion", false) ? "true" : "false",
              Age(obj, now)};
  } else if (r == "endpoints") {
    *cells = {Name(obj), EndpointsText(obj), Age(obj, now)};
  } else if (r == "endpointslices") {
    *cells = SliceCells(obj, now);
  } else if (r == "roles" || r == "clusterroles") {
    *cells = {Name(obj), obj["metadata"].value("creationTimestamp", "")};
  } else if (r == "rolebindings" || r == "clusterrolebindings") {
    *cells = BindingCells(obj, now);
  } else if (r == "jobs") {
    *cells = JobCells(obj, now);
  } else if (r == "cronjobs") {
    *cells = CronJobCells(obj, now);
  } else if (r == "resourcequotas") {
    *cells = QuotaCells(obj, now);
  } else if (r == "poddisruptionbudgets") {
    *cells = {Name(obj), OrNone(Text(spec.value("minAvailable", json())), "N/A"),
              OrNone(Text(spec.value("maxUnavailable", json())), "N/A"),
              status.value("disruptionsAllowed", 0), Age(obj, now)};
  } else if (r == "priorityclasses") {
    *cells = {Name(obj), obj.value("value", 0), obj.value("globalDefault", false), Age(obj, now),
              obj.value("preemptionPolicy", "PreemptLowerPriority")};
  } else if (r == "ingresses") {
    *cells = IngressCells(obj, now);
  } else if (r == "serviceaccounts") {
    *cells = {Name(obj), obj.value("secrets", json::array()).size(), Age(obj, now)};
  } else {
    return false;
  }
  return true;
}

}  // namespace remediator::kubesim
