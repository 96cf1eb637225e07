#include "server/remediator/adapters/kube/exec_plugin.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "server/common/redact.h"

extern char** environ;

namespace remediator::kube {
namespace {

absl::Status PluginError(const std::string& command, const std::string& what) {
  return absl::UnauthenticatedError(absl::StrCat("exec plugin \"", command, "\": ", what));
}

std::string ExecInfo(const KubeConfig& config) {
  nlohmann::json spec = {{"interactive", false}};
  if (config.exec->provide_cluster_info) {
    nlohmann::json cluster = {{"server", config.server}};
    if (!config.tls_server_name.empty()) cluster["tls-server-name"] = config.tls_server_name;
    if (config.insecure_skip_tls_verify) cluster["insecure-skip-tls-verify"] = true;
    if (!config.ca_pem.empty()) {
      cluster["certificate-authority-data"] = absl::Base64Escape(config.ca_pem);
    }
    if (!config.proxy_url.empty()) cluster["proxy-url"] = config.proxy_url;
    spec["cluster"] = cluster;
  }
  return nlohmann::json{
      {"apiVersion", config.exec->api_version}, {"kind", "ExecCredential"}, {"spec", spec}}
      .dump();
}

}  // namespace

absl::StatusOr<ExecCredential> ParseExecCredential(const std::string& text,
                                                   const std::string& api_version,
                                                   const std::string& command) {
  nlohmann::json credential = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!credential.is_object()) return PluginError(command, "printed no JSON ExecCredential");
  if (credential.value("kind", std::string()) != "ExecCredential") {
    return PluginError(command, "printed an object whose kind is not ExecCredential");
  }
  const std::string got = credential.value("apiVersion", std::string());
  if (got != api_version) {
    return PluginError(
        command, absl::StrCat("printed apiVersion \"", got, "\", want \"", api_version, "\""));
  }
  if (!credential.contains("status") || !credential["status"].is_object()) {
    return PluginError(command, "printed an ExecCredential without status");
  }
  const nlohmann::json& status = credential["status"];
  ExecCredential out;
  out.token = status.value("token", std::string());
  out.client_cert_pem = status.value("clientCertificateData", std::string());
  out.client_key_pem = status.value("clientKeyData", std::string());
  if (out.client_cert_pem.empty() != out.client_key_pem.empty()) {
    return PluginError(command,
                       "status.clientCertificateData and status.clientKeyData must come together");
  }
  if (out.token.empty() && out.client_cert_pem.empty()) {
    return PluginError(command, "status has neither token nor clientCertificateData");
  }
  const std::string expiration = status.value("expirationTimestamp", std::string());
  if (!expiration.empty()) {
    absl::Time time;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, expiration, &time, &error)) {
      return PluginError(command, absl::StrCat("status.expirationTimestamp \"", expiration,
                                               "\" is not RFC 3339: ", error));
    }
    out.expiration = time;
  }
  return out;
}

absl::StatusOr<ExecCredential> RunExecPlugin(const KubeConfig& config, absl::Duration timeout) {
  if (!config.exec.has_value()) return absl::InternalError("RunExecPlugin without exec config");
  const ExecConfig& exec = *config.exec;

  // Environment: ours, then the kubeconfig's entries, then KUBERNETES_EXEC_INFO.
  std::map<std::string, std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::pair<std::string, std::string> kv = absl::StrSplit(*e, absl::MaxSplits('=', 1));
    env[kv.first] = kv.second;
  }
  for (const auto& [name, value] : exec.env) env[name] = value;
  env["KUBERNETES_EXEC_INFO"] = ExecInfo(config);
  std::vector<std::string> env_strings;
  for (const auto& [name, value] : env) env_strings.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> arg_strings = {exec.command};
  arg_strings.insert(arg_strings.end(), exec.args.begin(), exec.args.end());
  std::vector<char*> argv;
  for (std::string& s : arg_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return PluginError(exec.command, "pipe failed");
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return PluginError(exec.command, "pipe failed");
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  pid_t pid = 0;
  const int spawn_error =
      posix_spawnp(&pid, exec.command.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (spawn_error != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    std::string what = absl::StrCat("cannot be started: ", std::strerror(spawn_error));
    if (!exec.install_hint.empty()) absl::StrAppend(&what, "; ", exec.install_hint);
    return PluginError(exec.command, what);
  }

  std::string out;
  std::string err;
  bool timed_out = false;
  const absl::Time deadline = absl::Now() + timeout;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    const int64_t wait_ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (wait_ms <= 0) {
      timed_out = true;
      break;
    }
    const int ready = poll(fds, 2, static_cast<int>(std::min<int64_t>(wait_ms, 1000)));
    if (ready < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      char buffer[4096];
      const ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
      if (n > 0) {
        std::string& sink = i == 0 ? out : err;
        if (sink.size() < (1 << 20)) sink.append(buffer, static_cast<size_t>(n));
      } else if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (pollfd& fd : fds) {
    if (fd.fd >= 0) close(fd.fd);
  }
  if (timed_out) kill(pid, SIGKILL);
  int wait_status = 0;
  while (waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return PluginError(exec.command,
                       absl::StrCat("timed out after ", absl::FormatDuration(timeout)));
  }
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
    std::string first_line = err.substr(0, err.find('\n'));
    if (first_line.size() > 200) first_line.resize(200);
    const std::string how = WIFEXITED(wait_status)
                                ? absl::StrCat("exited with code ", WEXITSTATUS(wait_status))
                                : std::string("was killed by a signal");
    return PluginError(exec.command, first_line.empty()
                                         ? how
                                         : absl::StrCat(how, ": ", RedactSecrets(first_line)));
  }
  return ParseExecCredential(out, exec.api_version, exec.command);
}

}  // namespace remediator::kube
