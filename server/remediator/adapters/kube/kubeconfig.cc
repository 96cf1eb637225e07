#include "server/remediator/adapters/kube/kubeconfig.h"

#include <cstdlib>
#include <filesystem>
#include <map>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "server/common/file_util.h"
#include "server/common/status_macros.h"
#include "yaml-cpp/yaml.h"

namespace remediator::kube {
namespace {

// One named entry of clusters/users/contexts and where it came from.
struct Entry {
  std::string file;
  std::string field;  // e.g. "clusters[2]"
  YAML::Node body;    // the inner "cluster"/"user"/"context" map (may be null)
};

struct Merged {
  std::map<std::string, Entry> clusters;
  std::map<std::string, Entry> users;
  std::map<std::string, Entry> contexts;
  std::string current_context;
  std::string current_context_file;
};

std::string Resolve(const std::string& file, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  return (std::filesystem::path(file).parent_path() / path).string();
}

absl::Status Bad(const std::string& file, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("kubeconfig ", file, ": ", what));
}

// Reads a scalar string field. Absent -> "", not a scalar -> error.
absl::StatusOr<std::string> Str(const YAML::Node& map, const std::string& key,
                                const std::string& file, const std::string& field) {
  if (!map || !map.IsMap()) return std::string();
  YAML::Node node = map[key];
  if (!node || node.IsNull()) return std::string();
  if (!node.IsScalar()) return Bad(file, absl::StrCat(field, ".", key, ": must be a string"));
  return node.Scalar();
}

absl::StatusOr<bool> Bool(const YAML::Node& map, const std::string& key, const std::string& file,
                          const std::string& field) {
  if (!map || !map.IsMap()) return false;
  YAML::Node node = map[key];
  if (!node || node.IsNull()) return false;
  const std::string text = node.IsScalar() ? node.Scalar() : "";
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  return Bad(file, absl::StrCat(field, ".", key, ": must be true or false"));
}

// base64 of PEM ("*-data" fields). Never echoes the value.
absl::StatusOr<std::string> Data(const YAML::Node& map, const std::string& key,
                                 const std::string& file, const std::string& field) {
  ASSIGN_OR_RETURN(std::string encoded, Str(map, key, file, field));
  if (encoded.empty()) return std::string();
  std::string decoded;
  std::string compact;
  for (char c : encoded) {
    if (c != '\n' && c != '\r' && c != ' ') compact.push_back(c);
  }
  if (!absl::Base64Unescape(compact, &decoded) || decoded.empty()) {
    return Bad(file, absl::StrCat(field, ".", key, ": not valid base64"));
  }
  if (!absl::StrContains(decoded, "-----BEGIN")) {
    return Bad(file, absl::StrCat(field, ".", key, ": does not decode to PEM text"));
  }
  return decoded;
}

absl::StatusOr<std::string> FileField(const YAML::Node& map, const std::string& key,
                                      const std::string& file, const std::string& field) {
  ASSIGN_OR_RETURN(std::string path, Str(map, key, file, field));
  if (path.empty()) return std::string();
  const std::string resolved = Resolve(file, path);
  absl::StatusOr<std::string> text = ReadFile(resolved);
  if (!text.ok()) {
    return Bad(file, absl::StrCat(field, ".", key, ": cannot read \"", resolved,
                                  "\": ", text.status().message()));
  }
  return *text;
}

absl::Status CollectNamed(const YAML::Node& root, const std::string& list_key,
                          const std::string& body_key, const std::string& file,
                          std::map<std::string, Entry>* into) {
  YAML::Node list = root[list_key];
  if (!list || list.IsNull()) return absl::OkStatus();
  if (!list.IsSequence()) return Bad(file, absl::StrCat(list_key, ": must be a list"));
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string field = absl::StrCat(list_key, "[", i, "]");
    YAML::Node item = list[i];
    if (!item.IsMap()) return Bad(file, absl::StrCat(field, ": must be a map"));
    ASSIGN_OR_RETURN(std::string name, Str(item, "name", file, field));
    if (name.empty()) return Bad(file, absl::StrCat(field, ".name: required"));
    YAML::Node body = item[body_key];
    if (body && !body.IsNull() && !body.IsMap()) {
      return Bad(file, absl::StrCat(field, ".", body_key, ": must be a map"));
    }
    // kubectl's merge: the first file to define a name wins.
    into->emplace(name, Entry{file, absl::StrCat(field, ".", body_key), body});
  }
  return absl::OkStatus();
}

absl::Status MergeFile(const KubeconfigFile& file, Merged* merged) {
  YAML::Node root;
  try {
    root = YAML::Load(file.text);
  } catch (const YAML::Exception& e) {
    return Bad(file.path, absl::StrCat("line ", e.mark.line + 1, ": ", e.msg));
  }
  if (!root || root.IsNull()) return absl::OkStatus();
  if (!root.IsMap()) return Bad(file.path, "the document must be a map");
  try {
    RETURN_IF_ERROR(CollectNamed(root, "clusters", "cluster", file.path, &merged->clusters));
    RETURN_IF_ERROR(CollectNamed(root, "users", "user", file.path, &merged->users));
    RETURN_IF_ERROR(CollectNamed(root, "contexts", "context", file.path, &merged->contexts));
    ASSIGN_OR_RETURN(std::string current, Str(root, "current-context", file.path, ""));
    if (merged->current_context.empty() && !current.empty()) {
      merged->current_context = current;
      merged->current_context_file = file.path;
    }
  } catch (const YAML::Exception& e) {
    return Bad(file.path, e.what());
  }
  return absl::OkStatus();
}

absl::Status ResolveCluster(const Entry& entry, KubeConfig* config) {
  const std::string& f = entry.file;
  const std::string& field = entry.field;
  ASSIGN_OR_RETURN(config->server, Str(entry.body, "server", f, field));
  if (config->server.empty()) return Bad(f, absl::StrCat(field, ".server: required"));
  if (!absl::StartsWith(config->server, "https://") &&
      !absl::StartsWith(config->server, "http://")) {
    return Bad(f, absl::StrCat(field, ".server \"", config->server,
                               "\": must start with https:// or http://"));
  }
  while (absl::EndsWith(config->server, "/")) config->server.pop_back();
  ASSIGN_OR_RETURN(config->tls_server_name, Str(entry.body, "tls-server-name", f, field));
  ASSIGN_OR_RETURN(config->proxy_url, Str(entry.body, "proxy-url", f, field));
  ASSIGN_OR_RETURN(config->insecure_skip_tls_verify,
                   Bool(entry.body, "insecure-skip-tls-verify", f, field));
  ASSIGN_OR_RETURN(config->ca_pem, Data(entry.body, "certificate-authority-data", f, field));
  if (config->ca_pem.empty()) {
    ASSIGN_OR_RETURN(config->ca_pem, FileField(entry.body, "certificate-authority", f, field));
  }
  if (config->insecure_skip_tls_verify && !config->ca_pem.empty()) {
    return Bad(f, absl::StrCat(field,
                               ": insecure-skip-tls-verify cannot be combined with "
                               "certificate-authority(-data)"));
  }
  return absl::OkStatus();
}

absl::Status ResolveExec(const YAML::Node& exec, const std::string& f, const std::string& field,
                         KubeConfig* config) {
  if (!exec.IsMap()) return Bad(f, absl::StrCat(field, ": must be a map"));
  ExecConfig out;
  ASSIGN_OR_RETURN(out.api_version, Str(exec, "apiVersion", f, field));
  if (out.api_version.empty()) return Bad(f, absl::StrCat(field, ".apiVersion: required"));
  if (out.api_version != "client.authentication.k8s.io/v1" &&
      out.api_version != "client.authentication.k8s.io/v1beta1") {
    return Bad(f, absl::StrCat(field, ".apiVersion \"", out.api_version,
                               "\" unsupported (use client.authentication.k8s.io/v1 or v1beta1)"));
  }
  ASSIGN_OR_RETURN(out.command, Str(exec, "command", f, field));
  if (out.command.empty()) return Bad(f, absl::StrCat(field, ".command: required"));
  if (absl::StrContains(out.command, "/")) out.command = Resolve(f, out.command);
  YAML::Node args = exec["args"];
  if (args && !args.IsNull()) {
    if (!args.IsSequence()) return Bad(f, absl::StrCat(field, ".args: must be a list"));
    for (size_t i = 0; i < args.size(); ++i) {
      if (!args[i].IsScalar()) {
        return Bad(f, absl::StrCat(field, ".args[", i, "]: must be a string"));
      }
      out.args.push_back(args[i].Scalar());
    }
  }
  YAML::Node env = exec["env"];
  if (env && !env.IsNull()) {
    if (!env.IsSequence()) return Bad(f, absl::StrCat(field, ".env: must be a list"));
    for (size_t i = 0; i < env.size(); ++i) {
      const std::string env_field = absl::StrCat(field, ".env[", i, "]");
      ASSIGN_OR_RETURN(std::string name, Str(env[i], "name", f, env_field));
      if (name.empty()) return Bad(f, absl::StrCat(env_field, ".name: required"));
      ASSIGN_OR_RETURN(std::string value, Str(env[i], "value", f, env_field));
      out.env.emplace_back(name, value);
    }
  }
  ASSIGN_OR_RETURN(out.install_hint, Str(exec, "installHint", f, field));
  ASSIGN_OR_RETURN(out.provide_cluster_info, Bool(exec, "provideClusterInfo", f, field));
  ASSIGN_OR_RETURN(out.interactive_mode, Str(exec, "interactiveMode", f, field));
  if (out.interactive_mode.empty()) {
    if (out.api_version == "client.authentication.k8s.io/v1") {
      return Bad(f, absl::StrCat(field,
                                 ".interactiveMode: required for "
                                 "client.authentication.k8s.io/v1 (Never, IfAvailable or Always)"));
    }
    out.interactive_mode = "IfAvailable";
  } else if (out.interactive_mode != "Never" && out.interactive_mode != "IfAvailable" &&
             out.interactive_mode != "Always") {
    return Bad(f, absl::StrCat(field, ".interactiveMode \"", out.interactive_mode,
                               "\": must be Never, IfAvailable or Always"));
  }
  if (out.interactive_mode == "Always") {
    return Bad(f, absl::StrCat(field,
                               ".interactiveMode \"Always\": the Remediator has no terminal; "
                               "use Never or IfAvailable"));
  }
  config->exec = std::move(out);
  return absl::OkStatus();
}

absl::Status ResolveUser(const Entry& entry, KubeConfig* config) {
  const std::string& f = entry.file;
  const std::string& field = entry.field;
  const YAML::Node& user = entry.body;
  if (!user || user.IsNull()) return absl::OkStatus();
  if (user["auth-provider"]) {
    return Bad(f, absl::StrCat(field, ".auth-provider: unsupported (use an exec plugin)"));
  }
  ASSIGN_OR_RETURN(config->client_cert_pem, Data(user, "client-certificate-data", f, field));
  if (config->client_cert_pem.empty()) {
    ASSIGN_OR_RETURN(config->client_cert_pem, FileField(user, "client-certificate", f, field));
  }
  ASSIGN_OR_RETURN(config->client_key_pem, Data(user, "client-key-data", f, field));
  if (config->client_key_pem.empty()) {
    ASSIGN_OR_RETURN(config->client_key_pem, FileField(user, "client-key", f, field));
  }
  if (config->client_cert_pem.empty() != config->client_key_pem.empty()) {
    return Bad(f,
               absl::StrCat(field, config->client_cert_pem.empty()
                                       ? ": client-key(-data) given without client-certificate"
                                       : ": client-certificate(-data) given without client-key"));
  }
  ASSIGN_OR_RETURN(config->token, Str(user, "token", f, field));
  ASSIGN_OR_RETURN(std::string token_file, Str(user, "tokenFile", f, field));
  if (!token_file.empty()) config->token_file = Resolve(f, token_file);
  ASSIGN_OR_RETURN(config->username, Str(user, "username", f, field));
  ASSIGN_OR_RETURN(config->password, Str(user, "password", f, field));
  YAML::Node exec = user["exec"];
  if (exec && !exec.IsNull()) RETURN_IF_ERROR(ResolveExec(exec, f, field + ".exec", config));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<KubeConfig> ResolveKubeconfig(const std::vector<KubeconfigFile>& files,
                                             const std::string& context) {
  std::string source;
  for (const KubeconfigFile& file : files) {
    source = source.empty() ? file.path : absl::StrCat(source, ":", file.path);
  }
  if (files.empty()) return absl::NotFoundError("no kubeconfig file found");
  Merged merged;
  for (const KubeconfigFile& file : files) RETURN_IF_ERROR(MergeFile(file, &merged));
  KubeConfig config;
  config.source = source;
  config.context_name = context.empty() ? merged.current_context : context;
  if (config.context_name.empty()) {
    return Bad(source, "current-context is not set and no --context was given");
  }
  auto ctx = merged.contexts.find(config.context_name);
  if (ctx == merged.contexts.end()) {
    return Bad(source, absl::StrCat("context \"", config.context_name, "\" not found"));
  }
  const Entry& c = ctx->second;
  try {
    ASSIGN_OR_RETURN(config.cluster_name, Str(c.body, "cluster", c.file, c.field));
    if (config.cluster_name.empty()) {
      return Bad(c.file, absl::StrCat(c.field, ".cluster: required (context \"",
                                      config.context_name, "\")"));
    }
    ASSIGN_OR_RETURN(config.user_name, Str(c.body, "user", c.file, c.field));
    ASSIGN_OR_RETURN(std::string ns, Str(c.body, "namespace", c.file, c.field));
    if (!ns.empty()) config.namespace_name = ns;
    auto cluster = merged.clusters.find(config.cluster_name);
    if (cluster == merged.clusters.end()) {
      return Bad(c.file, absl::StrCat("context \"", config.context_name, "\": cluster \"",
                                      config.cluster_name, "\" not found"));
    }
    RETURN_IF_ERROR(ResolveCluster(cluster->second, &config));
    if (!config.user_name.empty()) {
      auto user = merged.users.find(config.user_name);
      if (user == merged.users.end()) {
        return Bad(c.file, absl::StrCat("context \"", config.context_name, "\": user \"",
                                        config.user_name, "\" not found"));
      }
      RETURN_IF_ERROR(ResolveUser(user->second, &config));
    }
  } catch (const YAML::Exception& e) {
    return Bad(source, e.what());
  }
  return config;
}

absl::StatusOr<KubeConfig> LoadKubeconfig(const KubeconfigOptions& options) {
  std::vector<KubeconfigFile> files;
  if (!options.explicit_path.empty()) {
    absl::StatusOr<std::string> text = ReadFile(options.explicit_path);
    if (!text.ok()) {
      return absl::NotFoundError(absl::StrCat("kubeconfig ", options.explicit_path,
                                              ": cannot read: ", text.status().message()));
    }
    files.push_back({options.explicit_path, *text});
    return ResolveKubeconfig(files, options.context);
  }
  std::string env;
  if (options.kubeconfig_env.has_value()) {
    env = *options.kubeconfig_env;
  } else if (const char* value = std::getenv("KUBECONFIG"); value != nullptr) {
    env = value;
  }
  if (!env.empty()) {
    for (absl::string_view part : absl::StrSplit(env, ':', absl::SkipEmpty())) {
      const std::string path(part);
      absl::StatusOr<std::string> text = ReadFile(path);
      if (!text.ok()) continue;  // kubectl skips missing files of the list
      files.push_back({path, *text});
    }
    if (files.empty()) {
      return absl::NotFoundError(absl::StrCat("KUBECONFIG=", env, ": none of the files exists"));
    }
    return ResolveKubeconfig(files, options.context);
  }
  std::string home;
  if (options.home.has_value()) {
    home = *options.home;
  } else if (const char* value = std::getenv("HOME"); value != nullptr) {
    home = value;
  }
  const std::string path = home + "/.kube/config";
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) {
    return absl::NotFoundError(absl::StrCat(
        "no kubeconfig: --kubeconfig not given, KUBECONFIG unset and ", path, " unreadable"));
  }
  files.push_back({path, *text});
  return ResolveKubeconfig(files, options.context);
}

}  // namespace remediator::kube
