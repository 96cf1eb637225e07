#include "server/kubesim/tables.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/kubesim/cluster.h"
#include "server/kubesim/k8s_util.h"
#include "server/kubesim/tables_more.h"

namespace remediator::kubesim {
namespace {

using nlohmann::json;

json Col(const std::string& name, const std::string& type = "string", int priority = 0,
         const std::string& format = "") {
  json c = {{"name", name},
            {"type", type},
            {"format", format},
            {"description", ""},
            {"priority", priority}};
  return c;
}

std::string Age(const json& obj, const std::string& field, absl::Time now) {
  std::string ts = obj.value(field, "");
  if (ts.empty()) return "<unknown>";
  return HumanDuration(now - ParseRfc3339(ts, now));
}

std::string MetaAge(const json& obj, absl::Time now) {
  return Age(obj["metadata"], "creationTimestamp", now);
}

std::string ContainersOf(const json& tmpl_spec, bool images) {
  std::vector<std::string> out;
  for (const json& c : tmpl_spec.value("containers", json::array())) {
    out.push_back(c.value(images ? "image" : "name", ""));
  }
  return absl::StrJoin(out, ",");
}

std::string SelectorText(const json& sel) {
  std::vector<std::string> parts;
  if (sel.is_object() && sel.contains("matchLabels")) {
    for (auto& [k, v] : sel["matchLabels"].items()) {
      parts.push_back(k + "=" + (v.is_string() ? v.get<std::string>() : v.dump()));
    }
  }
  return parts.empty() ? "<none>" : absl::StrJoin(parts, ",");
}

int64_t StatusNum(const json& obj, const char* f) {
  if (!obj.contains("status") || !obj["status"].is_object()) return 0;
  const json& v = obj["status"].value(f, json());
  return v.is_number() ? v.get<int64_t>() : 0;
}

void PodCells(const json& pod, absl::Time now, json* cells) {
  const json& status = pod.value("status", json::object());
  std::string reason = status.value("phase", "");
  if (status.contains("reason")) reason = status["reason"];
  int total = static_cast<int>(pod["spec"].value("containers", json::array()).size());
  int ready = 0, restarts = 0;
  absl::Time last_restart = absl::InfinitePast();
  bool has_running = false;
  json statuses = status.value("containerStatuses", json::array());
  for (auto it = statuses.rbegin(); it != statuses.rend(); ++it) {
    const json& c = *it;
    restarts += c.value("restartCount", 0);
    if (c.contains("lastState") && c["lastState"].contains("terminated")) {
      absl::Time f =
          ParseRfc3339(c["lastState"]["terminated"].value("finishedAt", ""), absl::InfinitePast());
      last_restart = std::max(last_restart, f);
    }
    const json& st = c.value("state", json::object());
    if (st.contains("waiting") && !st["waiting"].value("reason", "").empty()) {
      reason = st["waiting"]["reason"];
    } else if (st.contains("terminated") && !st["terminated"].value("reason", "").empty()) {
      reason = st["terminated"]["reason"];
    } else if (st.contains("terminated")) {
      reason = absl::StrCat("ExitCode:", st["terminated"].value("exitCode", 0));
    } else if (c.value("ready", false) && st.contains("running")) {
      has_running = true;
      ++ready;
    }
  }
  if (reason == "Completed" && has_running) reason = PodIsReady(pod) ? "Running" : "NotReady";
  if (pod["metadata"].contains("deletionTimestamp")) reason = "Terminating";
  std::string restarts_text = std::to_string(restarts);
  if (restarts > 0 && last_restart != absl::InfinitePast()) {
    restarts_text = absl::StrCat(restarts, " (", HumanDuration(now - last_restart), " ago)");
  }
  *cells = {pod["metadata"].value("name", ""),
            absl::StrCat(ready, "/", total),
            reason,
            restarts_text,
            MetaAge(pod, now),
            status.value("podIP", "<none>"),
            pod["spec"].value("nodeName", "<none>"),
            "<none>",
            "<none>"};
}

void EventCells(const json& ev, absl::Time now, json* cells) {
  std::string first = Age(ev, "firstTimestamp", now);
  std::string last =
      ev.value("lastTimestamp", json()).is_string() ? Age(ev, "lastTimestamp", now) : first;
  int count = ev.value("count", 1);
  std::string interval = count > 1 ? absl::StrCat(last, " (x", count, " over ", first, ")") : first;
  const json& io = ev.value("involvedObject", json::object());
  std::string kind = io.value("kind", "");
  for (char& ch : kind) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  const json& src = ev.value("source", json::object());
  std::string source = src.value("component", "");
  if (!src.value("host", "").empty()) source += ", " + src.value("host", "");
  *cells = {interval,
            ev.value("type", ""),
            ev.value("reason", ""),
            absl::StrCat(kind, "/", io.value("name", "")),
            io.value("fieldPath", ""),
            source,
            ev.value("message", ""),
            first,
            count,
            ev["metadata"].value("name", "")};
}

}  // namespace

bool WantsTable(const std::string& accept) { return absl::StrContains(accept, "as=Table"); }

json ToTable(const ResourceType& type, const std::vector<json>& objects, absl::Time now,
             const std::string& resource_version, bool with_columns) {
  json cols;
  const std::string& r = type.resource;
  if (r == "pods") {
    cols = {Col("Name", "string", 0, "name"),
            Col("Ready"),
            Col("Status"),
            Col("Restarts"),
            Col("Age"),
            Col("IP", "string", 1),
            Col("Node", "string", 1),
            Col("Nominated Node", "string", 1),
            Col("Readiness Gates", "string", 1)};
  } else if (r == "events") {
    cols = {Col("Last Seen"),
            Col("Type"),
            Col("Reason"),
            Col("Object"),
            Col("Subobject", "string", 1),
            Col("Source", "string", 1),
            Col("Message"),
            Col("First Seen", "string", 1),
            Col("Count", "integer", 1),
            Col("Name", "string", 1)};
  } else if (r == "deployments") {
    cols = {Col("Name", "string", 0, "name"),
            Col("Ready"),
            Col("Up-to-date", "integer"),
            Col("Available", "integer"),
            Col("Age"),
            Col("Containers", "string", 1),
            Col("Images", "string", 1),
            Col("Selector", "string", 1)};
  } else if (r == "replicasets") {
    cols = {Col("Name", "string", 0, "name"),
            Col("Desired", "integer"),
            Col("Current", "integer"),
            Col("Ready", "integer"),
            Col("Age"),
            Col("Containers", "string", 1),
            Col("Images", "string", 1),
            Col("Selector", "string", 1)};
  } else if (r == "namespaces") {
    cols = {Col("Name", "string", 0, "name"), Col("Status"), Col("Age")};
  } else if (r == "nodes") {
    cols = {Col("Name", "string", 0, "name"),
            Col("Status"),
            Col("Roles"),
            Col("Age"),
            Col("Version"),
            Col("Internal-IP", "string", 1),
            Col("External-IP", "string", 1),
            Col("OS-Image", "string", 1),
            Col("Kernel-Version", "string", 1),
            Col("Container-Runtime", "string", 1)};
  } else if (r == "secrets") {
    cols = {Col("Name", "string", 0, "name"), Col("Type"), Col("Data", "integer"), Col("Age")};
  } else if (r == "configmaps") {
    cols = {Col("Name", "string", 0, "name"), Col("Data", "integer"), Col("Age")};
  } else if (r == "services") {
    cols = {Col("Name", "string", 0, "name"),
            Col("Type"),
            Col("Cluster-IP"),
            Col("External-IP"),
            Col("Port(s)"),
            Col("Age"),
            Col("Selector", "string", 1)};
  } else if (!MoreColumns(r, &cols)) {
    cols = {Col("Name", "string", 0, "name"), Col("Age")};
  }
  json rows = json::array();
  for (const json& obj : objects) {
    json cells;
    const json& spec = obj.value("spec", json::object());
    if (r == "pods") {
      PodCells(obj, now, &cells);
    } else if (r == "events") {
      EventCells(obj, now, &cells);
    } else if (r == "deployments") {
      json tspec = spec.contains("template") ? spec["template"].value("spec", json::object())
                                             : json::object();
      cells = {obj["metadata"].value("name", ""),
               absl::StrCat(StatusNum(obj, "readyReplicas"), "/", spec.value("replicas", 1)),
               StatusNum(obj, "updatedReplicas"),
               StatusNum(obj, "availableReplicas"),
               MetaAge(obj, now),
               ContainersOf(tspec, false),
               ContainersOf(tspec, true),
               SelectorText(spec.value("selector", json::object()))};
    } else if (r == "replicasets") {
      json tspec = spec.contains("template") ? spec["template"].value("spec", json::object())
                                             : json::object();
      cells = {obj["metadata"].value("name", ""),
               spec.value("replicas", 1),
               StatusNum(obj, "replicas"),
               StatusNum(obj, "readyReplicas"),
               MetaAge(obj, now),
               ContainersOf(tspec, false),
               ContainersOf(tspec, true),
               SelectorText(spec.value("selector", json::object()))};
    } else if (r == "namespaces") {
      cells = {obj["metadata"].value("name", ""),
               obj.value("status", json::object()).value("phase", "Active"), MetaAge(obj, now)};
    } else if (r == "nodes") {
      const json& info = obj["status"].value("nodeInfo", json::object());
      cells = {obj["metadata"].value("name", ""),
               "Ready",
               "<none>",
               MetaAge(obj, now),
               info.value("kubeletVersion", ""),
               "172.18.0.2",
               "<none>",
               info.value("osImage", ""),
               info.value("kernelVersion", ""),
               info.value("containerRuntimeVersion", "")};
    } else if (r == "secrets") {
      cells = {obj["metadata"].value("name", ""), obj.value("type", "Opaque"),
               obj.value("data", json::object()).size(), MetaAge(obj, now)};
    } else if (r == "configmaps") {
      cells = {obj["metadata"].value("name", ""), obj.value("data", json::object()).size(),
               MetaAge(obj, now)};
    } else if (r == "services") {
      std::vector<std::string> ports;
      for (const json& p : spec.value("ports", json::array())) {
        std::string node_port =
            p.contains("nodePort") ? absl::StrCat(":", p.value("nodePort", 0)) : std::string();
        ports.push_back(
            absl::StrCat(p.value("port", 0), node_port, "/", p.value("protocol", "TCP")));
      }
      std::string type = spec.value("type", "ClusterIP");
      std::string external = type == "LoadBalancer" ? "<pending>" : "<none>";
      if (type == "ExternalName") external = spec.value("externalName", "<none>");
      json sel = spec.value("selector", json::object());
      std::vector<std::string> sp;
      for (auto& [k, v] : sel.items()) sp.push_back(k + "=" + v.get<std::string>());
      cells = {obj["metadata"].value("name", ""),
               spec.value("type", "ClusterIP"),
               spec.value("clusterIP", "<none>"),
               external,
               ports.empty() ? "<none>" : absl::StrJoin(ports, ","),
               MetaAge(obj, now),
               sp.empty() ? "<none>" : absl::StrJoin(sp, ",")};
    } else if (!MoreCells(r, obj, now, &cells)) {
      cells = {obj["metadata"].value("name", ""), MetaAge(obj, now)};
    }
    rows.push_back({{"cells", cells},
                    {"object",
                     {{"kind", "PartialObjectMetadata"},
                      {"apiVersion", "meta.k8s.io/v1"},
                      {"metadata", obj["metadata"]}}}});
  }
  json table = {{"kind", "Table"},
                {"apiVersion", "meta.k8s.io/v1"},
                {"metadata", {{"resourceVersion", resource_version}}},
                {"columnDefinitions", with_columns ? cols : json::array()},
                {"rows", rows}};
  return table;
}

}  // namespace remediator::kubesim
