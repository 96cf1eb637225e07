// Sources for every signature: k8s-failures.md §5 (application error logs) and §2.2 (exit codes);
// the wording of the messages is the applications' own and stable across versions, unlike
// Kubernetes event texts.
#include "server/remediator/core/detection/log_patterns.h"

namespace remediator::detection {
namespace {

constexpr auto kApp = v1::ERROR_CLASS_APP_ERROR_LOG;
constexpr auto kOom = v1::ERROR_CLASS_OOM_KILLED;

PatternSpec P(const char* name, const char* regex, v1::ErrorClass cls, bool fixable,
              Strength strength, int priority) {
  return PatternSpec{name, regex, cls, fixable, strength, priority};
}

}  // namespace

std::vector<PatternSpec> BenchmarkPatterns() {
  const Strength S = Strength::kStrong;
  const Strength W = Strength::kWeak;
  return {
      P("bench_00_oomkilled", R"re(OOMKilled)re", kApp, false, W, 10),
      P("bench_01_crashloopbackoff", R"re(CrashLoopBackOff)re", kApp, false, W, 10),
      P("bench_02_panic", R"re(panic: )re", kApp, false, S, 10),
      P("bench_03_python_traceback", R"re(Traceback \(most recent call last\))re", kApp, false, S,
        10),
      P("bench_04_out_of_memory_error", R"re(OutOfMemoryError)re", kApp, true, S, 10),
      P("bench_05_connection_refused", R"re(connection refused)re", kApp, false, W, 10),
      P("bench_06_logfmt_level_error", R"re(level=(error|fatal|panic))re", kApp, false, W, 10),
      P("bench_07_json_level_error", R"re("level":\s*"(error|fatal|panic)")re", kApp, false, W, 10),
      P("bench_08_image_pull", R"re(ImagePullBackOff|ErrImagePull)re", kApp, false, W, 10),
      P("bench_09_segfault", R"re(segmentation fault|SIGSEGV)re", kApp, false, S, 10),
      P("bench_10_java_exception", R"re(Exception in thread "[^"]*")re", kApp, false, S, 10),
      P("bench_11_deadline_exceeded", R"re(context deadline exceeded)re", kApp, false, W, 10),
      P("bench_12_disk_full", R"re(no space left on device)re", kApp, false, S, 10),
      P("bench_13_connection_reset", R"re(connection reset by peer)re", kApp, false, W, 10),
      P("bench_14_probe_failed", R"re((Liveness|Readiness) probe failed)re", kApp, false, W, 10),
      P("bench_15_too_many_open_files", R"re(too many open files)re", kApp, false, W, 10),
      P("bench_16_io_timeout", R"re(i/o timeout)re", kApp, false, W, 10),
      P("bench_17_x509", R"re(x509: certificate)re", kApp, false, W, 10),
      P("bench_18_http_5xx", R"re(HTTP/1\.[01]" 5[0-9][0-9] )re", kApp, false, W, 10),
      P("bench_19_go_fatal_error", R"re(fatal error: )re", kApp, false, S, 10),
  };
}

std::vector<PatternSpec> DefaultLogPatterns() {
  const Strength S = Strength::kStrong;
  const Strength W = Strength::kWeak;
  std::vector<PatternSpec> patterns = {
      // A wrapper shell reporting its child SIGKILLed: almost always the cgroup OOM killer.
      P("shell_child_killed", R"re((?:^|: )line \d+:\s+\d+ Killed\s)re", kOom, true, S, 30),
      P("killed_alone", R"re(^\s*Killed\s*$)re", kOom, true, S, 30),
      // nginx
      P("nginx_host_not_found", R"re(\[emerg\].*host not found in upstream)re", kApp, false, S, 25),
      P("nginx_bind_permission_denied",
        R"re(\[emerg\].*bind\(\) to \S+ failed \(13: Permission denied\))re", kApp, true, S, 25),
      P("nginx_read_only_fs",
        R"re(\[emerg\].*\(30: Read-only file system\)|can not modify .*\(read-only file system\?\))re",
        kApp, true, S, 25),
      P("nginx_emerg", R"re(\[emerg\] )re", kApp, false, S, 20),
      // Databases
      P("postgres_no_password",
        R"re(Database is uninitialized and superuser password is not specified)re", kApp, true, S,
        25),
      P("postgres_initdb_not_empty",
        R"re(initdb: error: directory "[^"]*" exists but is not empty)re", kApp, true, S, 25),
      P("postgres_auth_failed", R"re(FATAL:\s+password authentication failed for user)re", kApp,
        false, S, 25),
      P("mysql_no_password",
        R"re(Database is uninitialized and password option is not specified)re", kApp, true, S, 25),
      // JVM
      P("java_out_of_memory", R"re(java\.lang\.OutOfMemoryError)re", kApp, true, S, 25),
      P("spring_datasource_url", R"re(Failed to configure a DataSource)re", kApp, true, S, 25),
      P("java_unknown_host", R"re(java\.net\.UnknownHostException)re", kApp, true, S, 22),
      // Go
      P("go_nil_pointer", R"re(invalid memory address or nil pointer dereference)re", kApp, false,
        S, 22),
      P("go_panic", R"re(^panic: )re", kApp, false, S, 21),
      P("dns_no_such_host", R"re(dial tcp: lookup \S+.*: no such host)re", kApp, false, S, 21),
      P("tcp_connection_refused", R"re(dial tcp \S+: connect: connection refused)re", kApp, false,
        S, 20),
      // Python
      P("python_missing_env", R"re(KeyError: '[A-Z][A-Z0-9_]*')re", kApp, true, S, 24),
      P("python_module_not_found", R"re(ModuleNotFoundError: No module named)re", kApp, false, S,
        24),
      P("postgres_client_refused",
        R"re(could not connect to server: Connection refused|connection to server at .* failed: Connection refused)re",
        kApp, false, S, 21),
      // Node.js
      P("node_econnrefused", R"re(connect ECONNREFUSED)re", kApp, false, S, 21),
      P("node_enotfound", R"re(getaddrinfo ENOTFOUND)re", kApp, false, S, 21),
      // Structured logs that say fatal/panic themselves; plain "error" levels are generic (weak).
      P("logfmt_level_fatal", R"re(level=(fatal|panic)\b)re", kApp, false, S, 15),
      P("json_level_fatal", R"re("level":\s*"(fatal|panic)")re", kApp, false, S, 15),
      P("tls_handshake_timeout", R"re(TLS handshake timeout)re", kApp, false, W, 12),
  };
  for (PatternSpec& p : BenchmarkPatterns()) patterns.push_back(std::move(p));
  return patterns;
}

}  // namespace remediator::detection
