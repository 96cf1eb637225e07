#include "server/kubesim/world.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/common/file_util.h"
#include "server/common/status_macros.h"
#include "server/common/yaml_config.h"
#include "server/kubesim/k8s_util.h"

namespace remediator::kubesim {
namespace {

using nlohmann::json;

absl::Status ReadQuantity(const YamlDocument& doc, const YAML::Node& map, const std::string& key,
                          int64_t* out) {
  std::string text;
  RETURN_IF_ERROR(ReadString(doc, map, key, &text));
  if (text.empty()) return absl::OkStatus();
  auto q = ParseQuantity(text);
  if (!q.ok()) return YamlError(doc, map[key], key, std::string(q.status().message()));
  *out = *q;
  return absl::OkStatus();
}

// The list at `key` as maps (a plain string item becomes {`string_key`: item}).
absl::StatusOr<std::vector<YAML::Node>> MapList(const YamlDocument& doc, const YAML::Node& node,
                                                const std::string& key,
                                                const std::string& string_key) {
  std::vector<YAML::Node> out;
  const YAML::Node& list = node[key];
  if (!list) return out;
  if (!list.IsSequence()) return YamlError(doc, list, key, "wants a list");
  for (const YAML::Node& item : list) {
    if (item.IsScalar()) {
      YAML::Node m;
      m[string_key] = item.Scalar();
      out.push_back(m);
    } else if (item.IsMap()) {
      out.push_back(item);
    } else {
      return YamlError(doc, item, key, "wants strings or mappings");
    }
  }
  return out;
}

absl::Status ParseHeapAndFlags(const YamlDocument& doc, const YAML::Node& node,
                               ImageBehavior* img) {
  if (const YAML::Node& f = node["flags"]) {
    RETURN_IF_ERROR(CheckKnownKeys(doc, f, {"known", "unknownLogs", "unknownExitCode"}, "flags"));
    img->has_flags = true;
    RETURN_IF_ERROR(ReadStringList(doc, f, "known", &img->known_flags));
    RETURN_IF_ERROR(ReadStringList(doc, f, "unknownLogs", &img->unknown_flag_logs));
    RETURN_IF_ERROR(ReadInt(doc, f, "unknownExitCode", &img->unknown_flag_exit_code));
  }
  if (const YAML::Node& h = node["heap"]) {
    RETURN_IF_ERROR(CheckKnownKeys(doc, h, {"envs", "args", "defaultPercent", "needs"}, "heap"));
    img->has_heap = true;
    RETURN_IF_ERROR(ReadStringList(doc, h, "envs", &img->heap_envs));
    RETURN_IF_ERROR(ReadBool(doc, h, "args", &img->heap_args));
    RETURN_IF_ERROR(ReadDouble(doc, h, "defaultPercent", &img->heap_default_percent));
    RETURN_IF_ERROR(ReadQuantity(doc, h, "needs", &img->heap_needs_bytes));
  }
  return absl::OkStatus();
}

absl::Status ParseProcessModel(const YamlDocument& doc, const YAML::Node& node,
                               ImageBehavior* img) {
  RETURN_IF_ERROR(ReadStringList(doc, node, "entrypoint", &img->entrypoint));
  RETURN_IF_ERROR(ReadStringList(doc, node, "cmd", &img->cmd));
  RETURN_IF_ERROR(ReadStringList(doc, node, "executables", &img->executables));
  RETURN_IF_ERROR(ReadString(doc, node, "program", &img->program));
  RETURN_IF_ERROR(ReadString(doc, node, "shell", &img->shell));
  if (img->shell != "dash" && img->shell != "busybox" && img->shell != "bash") {
    return YamlError(doc, node["shell"], "shell", "wants dash, busybox or bash");
  }
  RETURN_IF_ERROR(ReadStringList(doc, node, "nonEmptyEnv", &img->non_empty_env));
  RETURN_IF_ERROR(ReadInt(doc, node, "readOnlyExitCode", &img->read_only_exit_code));
  RETURN_IF_ERROR(ReadStringList(doc, node, "files", &img->files));
  RETURN_IF_ERROR(ParseHeapAndFlags(doc, node, img));
  ASSIGN_OR_RETURN(std::vector<YAML::Node> wrappers, MapList(doc, node, "wrappers", "path"));
  for (const YAML::Node& w : wrappers) {
    RETURN_IF_ERROR(CheckKnownKeys(doc, w, {"path", "notFoundLog"}, "wrappers[]"));
    ImageBehavior::Wrapper out{"", "${WRAPPER}: exec: ${CMD}: not found"};
    RETURN_IF_ERROR(ReadString(doc, w, "path", &out.path));
    RETURN_IF_ERROR(ReadString(doc, w, "notFoundLog", &out.not_found_log));
    img->wrappers.push_back(out);
  }
  ASSIGN_OR_RETURN(std::vector<YAML::Node> paths, MapList(doc, node, "writablePaths", "path"));
  for (const YAML::Node& p : paths) {
    RETURN_IF_ERROR(CheckKnownKeys(doc, p, {"path", "logs"}, "writablePaths[]"));
    ImageBehavior::WritablePath out;
    RETURN_IF_ERROR(ReadString(doc, p, "path", &out.path));
    if (out.path.empty() || out.path[0] != '/') {
      return YamlError(doc, p, "path", "wants an absolute path");
    }
    RETURN_IF_ERROR(ReadStringList(doc, p, "logs", &out.logs));
    if (out.logs.empty()) out.logs.push_back("open ${FILE}: read-only file system");
    img->writable_paths.push_back(out);
  }
  if (const YAML::Node& list = node["execResults"]) {
    if (!list.IsSequence()) return YamlError(doc, list, "execResults", "wants a list");
    for (const YAML::Node& e : list) {
      RETURN_IF_ERROR(CheckKnownKeys(doc, e, {"command", "exitCode", "output"}, "execResults[]"));
      ImageBehavior::ExecResult out;
      RETURN_IF_ERROR(ReadString(doc, e, "command", &out.command));
      RETURN_IF_ERROR(ReadInt(doc, e, "exitCode", &out.exit_code));
      RETURN_IF_ERROR(ReadString(doc, e, "output", &out.output));
      img->exec_results.push_back(out);
    }
  }
  return absl::OkStatus();
}

absl::Status ParseImage(const YamlDocument& doc, const YAML::Node& node, ImageBehavior* img) {
  RETURN_IF_ERROR(CheckKnownKeys(doc, node,
                                 {"name",
                                  "workingSet",
                                  "startupSeconds",
                                  "oomAfterSeconds",
                                  "serves",
                                  "requiredEnv",
                                  "missingEnvLogs",
                                  "missingEnvExitCode",
                                  "startLogs",
                                  "crash",
                                  "termExitCode",
                                  "description",
                                  "entrypoint",
                                  "cmd",
                                  "executables",
                                  "wrappers",
                                  "program",
                                  "shell",
                                  "flags",
                                  "nonEmptyEnv",
                                  "heap",
                                  "writablePaths",
                                  "readOnlyExitCode",
                                  "files",
                                  "execResults"},
                                 "images[]"));
  RETURN_IF_ERROR(ReadString(doc, node, "name", &img->name));
  if (img->name.empty()) return YamlError(doc, node, "name", "every image needs a name");
  RETURN_IF_ERROR(ReadQuantity(doc, node, "workingSet", &img->working_set_bytes));
  RETURN_IF_ERROR(ReadDouble(doc, node, "startupSeconds", &img->startup_seconds));
  RETURN_IF_ERROR(ReadDouble(doc, node, "oomAfterSeconds", &img->oom_after_seconds));
  RETURN_IF_ERROR(ReadStringList(doc, node, "requiredEnv", &img->required_env));
  RETURN_IF_ERROR(ReadStringList(doc, node, "missingEnvLogs", &img->missing_env_logs));
  RETURN_IF_ERROR(ReadInt(doc, node, "missingEnvExitCode", &img->missing_env_exit_code));
  RETURN_IF_ERROR(ReadStringList(doc, node, "startLogs", &img->start_logs));
  RETURN_IF_ERROR(ReadInt(doc, node, "termExitCode", &img->term_exit_code));
  if (node["serves"]) {
    if (!node["serves"].IsSequence()) {
      return YamlError(doc, node["serves"], "serves", "wants a list of {port, paths}");
    }
    for (const YAML::Node& p : node["serves"]) {
      RETURN_IF_ERROR(CheckKnownKeys(doc, p, {"port", "paths"}, "serves[]"));
      ServedPort sp;
      RETURN_IF_ERROR(ReadInt(doc, p, "port", &sp.port));
      if (sp.port <= 0) return YamlError(doc, p, "port", "wants a port number > 0");
      RETURN_IF_ERROR(ReadStringList(doc, p, "paths", &sp.paths));
      img->serves.push_back(sp);
    }
  }
  RETURN_IF_ERROR(ParseProcessModel(doc, node, img));
  if (node["crash"]) {
    const YAML::Node& c = node["crash"];
    RETURN_IF_ERROR(CheckKnownKeys(doc, c, {"afterSeconds", "exitCode", "logs"}, "crash"));
    img->crashes = true;
    RETURN_IF_ERROR(ReadDouble(doc, c, "afterSeconds", &img->crash_after_seconds));
    RETURN_IF_ERROR(ReadInt(doc, c, "exitCode", &img->crash_exit_code));
    RETURN_IF_ERROR(ReadStringList(doc, c, "logs", &img->crash_logs));
  }
  return absl::OkStatus();
}

absl::Status ParseNode(const YamlDocument& doc, const YAML::Node& node, NodeSpec* out) {
  RETURN_IF_ERROR(CheckKnownKeys(
      doc, node, {"name", "capacity", "labels", "taints", "unschedulable"}, "nodes[]"));
  RETURN_IF_ERROR(ReadBool(doc, node, "unschedulable", &out->unschedulable));
  if (const YAML::Node& taints = node["taints"]) {
    if (!taints.IsSequence()) return YamlError(doc, taints, "taints", "wants a list");
    for (const YAML::Node& t : taints) {
      RETURN_IF_ERROR(CheckKnownKeys(doc, t, {"key", "value", "effect"}, "taints[]"));
      std::string key, value, effect = "NoSchedule";
      RETURN_IF_ERROR(ReadString(doc, t, "key", &key));
      RETURN_IF_ERROR(ReadString(doc, t, "value", &value));
      RETURN_IF_ERROR(ReadString(doc, t, "effect", &effect));
      if (key.empty()) return YamlError(doc, t, "key", "every taint needs a key");
      if (effect != "NoSchedule" && effect != "PreferNoSchedule" && effect != "NoExecute") {
        return YamlError(doc, t, "effect", "wants NoSchedule, PreferNoSchedule or NoExecute");
      }
      json taint = {{"key", key}, {"effect", effect}};
      if (!value.empty()) taint["value"] = value;
      out->taints.push_back(taint);
    }
  }
  RETURN_IF_ERROR(ReadString(doc, node, "name", &out->name));
  if (out->name.empty()) return YamlError(doc, node, "name", "every node needs a name");
  if (const YAML::Node& cap = node["capacity"]) {
    RETURN_IF_ERROR(CheckKnownKeys(doc, cap, {"cpu", "memory", "pods"}, "capacity"));
    std::string cpu;
    RETURN_IF_ERROR(ReadString(doc, cap, "cpu", &cpu));
    if (!cpu.empty()) {
      auto m = ParseCpuMillis(cpu);
      if (!m.ok()) return YamlError(doc, cap["cpu"], "cpu", std::string(m.status().message()));
      out->cpu_millis = *m;
    }
    RETURN_IF_ERROR(ReadQuantity(doc, cap, "memory", &out->memory_bytes));
    RETURN_IF_ERROR(ReadQuantity(doc, cap, "pods", &out->pods));
  }
  if (node["labels"]) out->labels = YamlToJson(node["labels"]);
  return absl::OkStatus();
}

absl::Status ParseObjects(const YamlDocument& doc, const YAML::Node& list, const std::string& key,
                          const std::string& kind, World* world) {
  if (!list) return absl::OkStatus();
  if (!list.IsSequence()) return YamlError(doc, list, key, "wants a list");
  for (const YAML::Node& item : list) {
    if (!item.IsMap()) return YamlError(doc, item, key, "wants a list of mappings");
    json obj = YamlToJson(item);
    if (kind.empty()) {
      if (!obj.contains("kind") || !obj.contains("apiVersion")) {
        return YamlError(doc, item, key, "every manifest needs apiVersion and kind");
      }
      world->objects.push_back(obj);
      continue;
    }
    // Shorthand secrets/configMaps: {namespace, name, data/stringData, type}.
    json full = {
        {"apiVersion", "v1"},
        {"kind", kind},
        {"metadata",
         {{"name", obj.value("name", "")}, {"namespace", obj.value("namespace", "default")}}}};
    if (full["metadata"]["name"] == "") return YamlError(doc, item, "name", "is required");
    for (const char* f : {"data", "stringData", "type", "binaryData"}) {
      if (obj.contains(f)) full[f] = obj[f];
    }
    if (kind == "Secret" && full.contains("stringData")) {
      // Store as the apiserver does: base64 data, no stringData.
      static const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
      for (auto& [k, v] : full["stringData"].items()) {
        std::string in = v.is_string() ? v.get<std::string>() : v.dump();
        std::string outb;
        int val = 0, valb = -6;
        for (unsigned char c : in) {
          val = (val << 8) + c;
          valb += 8;
          while (valb >= 0) {
            outb.push_back(kB64[(val >> valb) & 0x3F]);
            valb -= 6;
          }
        }
        if (valb > -6) outb.push_back(kB64[((val << 8) >> (valb + 8)) & 0x3F]);
        while (outb.size() % 4) outb.push_back('=');
        full["data"][k] = outb;
      }
      full.erase("stringData");
      if (!full.contains("type")) full["type"] = "Opaque";
    }
    world->objects.push_back(full);
  }
  return absl::OkStatus();
}

}  // namespace

std::string NormalizeImage(const std::string& image) {
  std::string ref = image;
  size_t at = ref.find('@');
  std::string digest;
  if (at != std::string::npos) {
    digest = ref.substr(at);
    ref = ref.substr(0, at);
  }
  size_t slash = ref.find('/');
  std::string first = slash == std::string::npos ? "" : ref.substr(0, slash);
  bool has_registry =
      slash != std::string::npos && (first.find('.') != std::string::npos ||
                                     first.find(':') != std::string::npos || first == "localhost");
  if (!has_registry) {
    ref = (slash == std::string::npos ? "docker.io/library/" : "docker.io/") + ref;
  }
  size_t last_slash = ref.rfind('/');
  if (digest.empty() && ref.find(':', last_slash) == std::string::npos) ref += ":latest";
  return ref + digest;
}

const ImageBehavior* World::FindImage(const std::string& image) const {
  std::string want = NormalizeImage(image);
  for (const auto& img : images) {
    if (!img.name.empty() && img.name.back() == '*') {
      std::string prefix = img.name.substr(0, img.name.size() - 1);
      for (const std::string& candidate :
           {prefix, "docker.io/library/" + prefix, "docker.io/" + prefix}) {
        if (absl::StartsWith(want, candidate)) return &img;
      }
      continue;
    }
    if (NormalizeImage(img.name) == want) return &img;
  }
  return nullptr;
}

json YamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Sequence: {
      json arr = json::array();
      for (const auto& n : node) arr.push_back(YamlToJson(n));
      return arr;
    }
    case YAML::NodeType::Map: {
      json obj = json::object();
      for (const auto& kv : node) obj[kv.first.as<std::string>()] = YamlToJson(kv.second);
      return obj;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (node.Tag() == "!") return s;  // quoted
      if (s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
      if (s == "true" || s == "True" || s == "TRUE") return true;
      if (s == "false" || s == "False" || s == "FALSE") return false;
      int64_t i;
      if (!s.empty() && (absl::ascii_isdigit(s[0]) || s[0] == '-') && absl::SimpleAtoi(s, &i) &&
          !(s.size() > 1 && s[0] == '0')) {
        return i;
      }
      double d;
      if (!s.empty() && (absl::ascii_isdigit(s[0]) || s[0] == '-' || s[0] == '.') &&
          s.find_first_not_of("0123456789.-+eE") == std::string::npos && absl::SimpleAtod(s, &d)) {
        return d;
      }
      return s;
    }
  }
  return nullptr;
}

absl::StatusOr<std::vector<json>> ParseManifests(const std::string& text, const std::string& name) {
  std::vector<json> out;
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ":", e.mark.line + 1, ":", e.mark.column + 1, ": ", e.msg));
  }
  for (const auto& doc : docs) {
    json obj = YamlToJson(doc);
    if (obj.is_null()) continue;
    if (!obj.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(name, ": a document is not a mapping"));
    }
    if (obj.value("kind", "") == "List" && obj.contains("items")) {
      for (const json& item : obj["items"]) out.push_back(item);
      continue;
    }
    if (!obj.contains("kind") || !obj.contains("apiVersion")) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": a document has no apiVersion/kind: ", obj.dump().substr(0, 80)));
    }
    out.push_back(obj);
  }
  return out;
}

absl::StatusOr<std::vector<json>> LoadManifestDir(const std::string& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string p = entry.path().string();
    if (absl::EndsWith(p, ".yaml") || absl::EndsWith(p, ".yml") || absl::EndsWith(p, ".json")) {
      files.push_back(p);
    }
  }
  if (ec) return absl::NotFoundError(absl::StrCat("manifest dir ", dir, ": ", ec.message()));
  std::sort(files.begin(), files.end());
  std::vector<json> out;
  for (const auto& f : files) {
    ASSIGN_OR_RETURN(std::string text, ReadFile(f));
    ASSIGN_OR_RETURN(std::vector<json> objs, ParseManifests(text, f));
    out.insert(out.end(), objs.begin(), objs.end());
  }
  return out;
}

absl::StatusOr<World> ParseWorld(const std::string& text, const std::string& name) {
  ASSIGN_OR_RETURN(YamlDocument doc, ParseYaml(text, name));
  World world;
  const YAML::Node& root = doc.root;
  if (!root || root.IsNull()) return world;
  RETURN_IF_ERROR(
      CheckKnownKeys(doc, root,
                     {"kind", "apiVersion", "description", "oomInitThreshold", "namespaces",
                      "nodes", "images", "secrets", "configMaps", "manifests"},
                     "world"));
  RETURN_IF_ERROR(ReadQuantity(doc, root, "oomInitThreshold", &world.oom_init_threshold_bytes));
  RETURN_IF_ERROR(ReadStringList(doc, root, "namespaces", &world.namespaces));
  if (const YAML::Node& nodes = root["nodes"]) {
    if (!nodes.IsSequence()) return YamlError(doc, nodes, "nodes", "wants a list");
    for (const auto& n : nodes) {
      NodeSpec spec;
      RETURN_IF_ERROR(ParseNode(doc, n, &spec));
      world.nodes.push_back(spec);
    }
  }
  if (const YAML::Node& images = root["images"]) {
    if (!images.IsSequence()) return YamlError(doc, images, "images", "wants a list");
    for (const auto& n : images) {
      ImageBehavior img;
      RETURN_IF_ERROR(ParseImage(doc, n, &img));
      world.images.push_back(img);
    }
  }
  RETURN_IF_ERROR(ParseObjects(doc, root["secrets"], "secrets", "Secret", &world));
  RETURN_IF_ERROR(ParseObjects(doc, root["configMaps"], "configMaps", "ConfigMap", &world));
  RETURN_IF_ERROR(ParseObjects(doc, root["manifests"], "manifests", "", &world));
  return world;
}

absl::StatusOr<World> LoadWorldFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseWorld(text, path);
}

}  // namespace remediator::kubesim
