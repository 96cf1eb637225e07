#include "server/kubesim/container_model.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "server/kubesim/k8s_util.h"

namespace remediator::kubesim {
namespace {

using nlohmann::json;

// runc's prefix for every start failure, as containerd reports it to the kubelet.
constexpr char kRuncPrefix[] =
    "failed to create containerd task: failed to create shim task: OCI runtime create failed: "
    "runc create failed: unable to start container process: ";

const std::vector<std::string>& PathDirs() {
  static const std::vector<std::string> dirs = {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
                                                "/usr/bin",        "/sbin",          "/bin"};
  return dirs;
}

std::string Basename(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string Dirname(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos || slash == 0 ? "/" : path.substr(0, slash);
}

bool InPathDir(const std::string& path) {
  const auto& dirs = PathDirs();
  return std::find(dirs.begin(), dirs.end(), Dirname(path)) != dirs.end();
}

// Whether exec finds `word` in the image: bare names through $PATH, paths as written.
bool FindExecutable(const ImageBehavior& img, const std::string& word) {
  if (img.executables.empty()) return true;  // legacy image entry: anything runs
  for (const std::string& e : img.executables) {
    const bool e_is_path = e.find('/') != std::string::npos;
    if (word.find('/') != std::string::npos) {
      if (e == word || (!e_is_path && Basename(word) == e && InPathDir(word))) return true;
    } else if ((!e_is_path && e == word) || (e_is_path && Basename(e) == word && InPathDir(e))) {
      return true;
    }
  }
  return false;
}

// The tail of runc's message for an argv[0] exec cannot find.
std::string ExecNotFound(const std::string& word) {
  if (word.find('/') != std::string::npos) {
    return absl::StrCat("exec: \"", word, "\": stat ", word, ": no such file or directory");
  }
  return absl::StrCat("exec: \"", word, "\": executable file not found in $PATH");
}

std::string Subst(const std::string& line,
                  const std::vector<std::pair<std::string, std::string>>& vars) {
  return absl::StrReplaceAll(line, vars);
}

const ImageBehavior::Wrapper* FindWrapper(const ImageBehavior& img, const std::string& word) {
  for (const auto& w : img.wrappers) {
    if (w.path == word || Basename(w.path) == Basename(word)) return &w;
  }
  return nullptr;
}

// The program this image entry describes: `program`, else the first of entrypoint+cmd that is
// not a wrapper.
std::string ProgramName(const ImageBehavior& img) {
  if (!img.program.empty()) return img.program;
  std::vector<std::string> argv = img.entrypoint;
  argv.insert(argv.end(), img.cmd.begin(), img.cmd.end());
  for (const auto& a : argv) {
    if (FindWrapper(img, a) == nullptr) return Basename(a);
  }
  return "";
}

bool IsShell(const std::string& word) {
  const std::string b = Basename(word);
  return b == "sh" || b == "bash" || b == "ash" || b == "dash";
}

// ---- What an argv does once the runtime started it --------------------------------------------

struct Run {
  enum Kind { kProgram, kSleep, kExit } kind = kExit;
  std::vector<std::string> logs;          // printed before the terminal behaviour
  std::vector<std::string> program_args;  // kProgram: the program's arguments
  double sleep_seconds = -1;              // kSleep: -1 is forever
  int exit_code = 0;                      // kExit
  double delay_seconds = 0;               // finite sleeps run before the terminal behaviour
};

Run Interpret(const ImageBehavior& img, const std::vector<std::string>& argv, int depth);

double ParseSleep(const std::string& arg) {
  if (arg == "infinity" || arg.empty()) return -1;
  double mult = 1;
  std::string num = arg;
  switch (arg.back()) {
    case 's':
      num.pop_back();
      break;
    case 'm':
      mult = 60;
      num.pop_back();
      break;
    case 'h':
      mult = 3600;
      num.pop_back();
      break;
    case 'd':
      mult = 86400;
      num.pop_back();
      break;
    default:
      break;
  }
  double v = 0;
  return absl::SimpleAtod(num, &v) ? v * mult : 0;
}

std::string ShellNotFound(const ImageBehavior& img, const std::string& shell, int line,
                          const std::string& cmd) {
  if (img.shell == "busybox") return absl::StrCat(shell, ": ", cmd, ": not found");
  if (img.shell == "bash")
    return absl::StrCat(shell, ": line ", line, ": ", cmd, ": command not found");
  return absl::StrCat(shell, ": ", line, ": ", cmd, ": not found");
}

struct Segment {
  std::vector<std::string> words;
  std::string sep_before;  // "", ";", "&&", "||", "|"
  int line = 1;
};

// Splits a POSIX shell script into simple commands (quotes respected; no expansions).
std::vector<Segment> SplitScript(const std::string& script) {
  std::vector<Segment> out(1);
  std::string word;
  bool in_word = false;
  char quote = 0;
  int line = 1;
  auto end_word = [&] {
    if (in_word) out.back().words.push_back(word);
    word.clear();
    in_word = false;
  };
  auto new_segment = [&](const std::string& sep) {
    end_word();
    out.push_back(Segment{{}, sep, line});
  };
  for (size_t i = 0; i < script.size(); ++i) {
    const char ch = script[i];
    if (quote != 0) {
      if (ch == quote)
        quote = 0;
      else
        word += ch;
      continue;
    }
    const std::string two = script.substr(i, 2);
    if (ch == '\'' || ch == '"') {
      quote = ch;
      in_word = true;
    } else if (two == "&&" || two == "||") {
      new_segment(two);
      ++i;
    } else if (ch == ';' || ch == '|' || ch == '&' || ch == '\n') {
      if (ch == '\n') ++line;
      new_segment(ch == '\n' || ch == '&' ? ";" : std::string(1, ch));
    } else if (absl::ascii_isspace(static_cast<unsigned char>(ch))) {
      end_word();
    } else {
      word += ch;
      in_word = true;
    }
  }
  end_word();
  return out;
}

bool IsAssignment(const std::string& w) {
  size_t eq = w.find('=');
  return eq != std::string::npos && eq > 0 && std::all_of(w.begin(), w.begin() + eq, [](char c) {
           return absl::ascii_isalnum(c) || c == '_';
         });
}

// Runs one simple command of a script; returns true (and sets *run) when it is terminal.
bool RunSegment(const ImageBehavior& img, const std::string& shell, Segment seg, bool is_last,
                int* last, Run* run) {
  auto& w = seg.words;
  while (!w.empty() && IsAssignment(w.front())) w.erase(w.begin());
  if (w.empty()) return false;
  const bool is_exec = w.front() == "exec";
  if (is_exec) w.erase(w.begin());
  if (w.empty()) return false;
  const std::string& cmd = w.front();
  if (cmd == "exit") {
    int code = *last;
    if (w.size() > 1) absl::SimpleAtoi(w[1], &code);
    run->kind = Run::kExit;
    run->exit_code = code;
    return true;
  }
  static const std::vector<std::string> kBuiltins = {"cd", "export", "set",   "trap", "umask",
                                                     ":",  "true",   "false", "wait", "unset"};
  if (std::find(kBuiltins.begin(), kBuiltins.end(), cmd) != kBuiltins.end()) {
    *last = cmd == "false" ? 1 : 0;
    return false;
  }
  if (cmd != "echo" && cmd != "printf" && !FindExecutable(img, cmd)) {
    run->logs.push_back(is_exec && img.shell == "dash"
                            ? absl::StrCat(shell, ": ", seg.line, ": exec: ", cmd, ": not found")
                            : ShellNotFound(img, shell, seg.line, cmd));
    *last = 127;
    if (is_exec) {
      run->kind = Run::kExit;
      run->exit_code = 127;
      return true;
    }
    return false;
  }
  Run sub = Interpret(img, w, 1);
  run->logs.insert(run->logs.end(), sub.logs.begin(), sub.logs.end());
  if (sub.kind == Run::kSleep && sub.sleep_seconds >= 0 && !is_last && !is_exec) {
    run->delay_seconds += sub.sleep_seconds;  // `sleep 5; exit 1`
    *last = 0;
    return false;
  }
  if (sub.kind != Run::kExit || is_exec) {
    sub.logs = run->logs;
    sub.delay_seconds += run->delay_seconds;
    *run = sub;
    return true;
  }
  *last = sub.exit_code;
  return false;
}

Run InterpretScript(const ImageBehavior& img, const std::string& shell, const std::string& script) {
  Run run;
  int last = 0;
  const std::vector<Segment> segments = SplitScript(script);
  for (size_t i = 0; i < segments.size(); ++i) {
    const Segment& seg = segments[i];
    if ((seg.sep_before == "&&" && last != 0) || (seg.sep_before == "||" && last == 0)) continue;
    if (RunSegment(img, shell, seg, i + 1 == segments.size(), &last, &run)) return run;
  }
  run.kind = Run::kExit;
  run.exit_code = last;
  return run;
}

Run Interpret(const ImageBehavior& img, const std::vector<std::string>& argv, int depth) {
  Run run;
  if (argv.empty() || img.executables.empty()) {
    run.kind = Run::kProgram;
    if (!argv.empty()) run.program_args.assign(argv.begin() + 1, argv.end());
    return run;
  }
  const std::string b = Basename(argv[0]);
  if (const auto* w = FindWrapper(img, argv[0]); w != nullptr && depth < 8) {
    if (argv.size() < 2) return run;  // nothing to exec: exits 0
    if (!FindExecutable(img, argv[1])) {
      run.logs.push_back(Subst(w->not_found_log, {{"${WRAPPER}", w->path}, {"${CMD}", argv[1]}}));
      run.exit_code = 127;
      return run;
    }
    return Interpret(img, std::vector<std::string>(argv.begin() + 1, argv.end()), depth + 1);
  }
  if (IsShell(argv[0]) && argv.size() >= 3 && argv[1] == "-c") {
    return InterpretScript(img, argv[0], argv[2]);
  }
  if (b == ProgramName(img)) {
    run.kind = Run::kProgram;
    run.program_args.assign(argv.begin() + 1, argv.end());
  } else if (b == "sleep") {
    run.kind = Run::kSleep;
    run.sleep_seconds = ParseSleep(argv.size() > 1 ? argv[1] : "");
  } else if (b == "echo" || b == "printf") {
    std::vector<std::string> words(argv.begin() + 1, argv.end());
    if (!words.empty() && words[0] == "-n") words.erase(words.begin());
    run.logs.push_back(absl::StrJoin(words, " "));
  } else if (b == "false") {
    run.exit_code = 1;
  } else if (IsShell(argv[0]) && argv.size() == 1) {
    run.exit_code = 0;  // an interactive shell without a terminal reads EOF and exits
  }
  return run;
}

}  // namespace

namespace {

// A key of a Secret/ConfigMap as the process sees it (Secret data is base64), or nullopt.
std::optional<std::string> ObjectKey(const json& obj, const std::string& key, bool secret) {
  for (const char* field : {"data", "binaryData"}) {
    if (!obj.contains(field) || !obj[field].is_object() || !obj[field].contains(key)) continue;
    const json& v = obj[field][key];
    std::string text = v.is_string() ? v.get<std::string>() : v.dump();
    if (secret || std::string(field) == "binaryData") {
      std::string decoded;
      if (absl::Base64Unescape(text, &decoded)) return decoded;
    }
    return text;
  }
  return std::nullopt;
}

// valueFrom: the value, or sets *error (empty *error and nullopt: an optional ref is skipped).
std::optional<std::string> ResolveValueFrom(const json& pod, const json& vf, const std::string& ns,
                                            const ObjectLookup& lookup, std::string* error) {
  if (vf.contains("fieldRef")) {
    const std::string path = vf["fieldRef"].value("fieldPath", "");
    if (path == "status.podIP" || path == "status.hostIP") {
      return pod.contains("status") ? pod["status"].value("podIP", "") : "";
    }
    return StringAtPath(pod, path);
  }
  if (vf.contains("resourceFieldRef")) return std::string("0");
  for (const auto& [ref, res, kind] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"secretKeyRef", "secrets", "Secret"}, {"configMapKeyRef", "configmaps", "ConfigMap"}}) {
    if (!vf.contains(ref)) continue;
    const json& r = vf[ref];
    const std::string name = r.value("name", "");
    const std::string key = r.value("key", "");
    const bool optional = r.value("optional", false);
    std::optional<json> obj = lookup(res, name);
    if (!obj) {
      if (!optional) {
        *error =
            absl::StrCat(kind == "Secret" ? "secret" : "configmap", " \"", name, "\" not found");
      }
      return std::nullopt;
    }
    std::optional<std::string> value = ObjectKey(*obj, key, kind == "Secret");
    if (!value && !optional) {
      *error = absl::StrCat("couldn't find key ", key, " in ", kind, " ", ns, "/", name);
    }
    return value;
  }
  return std::string();
}

}  // namespace

ResolvedEnv ResolveEnv(const json& pod, const json& container, const std::string& ns,
                       const ObjectLookup& lookup) {
  ResolvedEnv out;
  // envFrom first: explicit env entries override it, as in the kubelet.
  for (const json& ef : container.value("envFrom", json::array())) {
    const std::string prefix = ef.value("prefix", "");
    for (const auto& [ref, res, word] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"secretRef", "secrets", "secret"}, {"configMapRef", "configmaps", "configmap"}}) {
      if (!ef.contains(ref)) continue;
      const std::string name = ef[ref].value("name", "");
      std::optional<json> obj = lookup(res, name);
      if (!obj) {
        if (ef[ref].value("optional", false)) continue;
        out.config_error = absl::StrCat(word, " \"", name, "\" not found");
        return out;
      }
      for (const char* field : {"data", "binaryData"}) {
        if (!obj->contains(field) || !(*obj)[field].is_object()) continue;
        for (const auto& [k, v] : (*obj)[field].items()) {
          out.vars[prefix + k] = ObjectKey(*obj, k, res == "secrets").value_or("");
        }
      }
    }
  }
  for (const json& e : container.value("env", json::array())) {
    const std::string name = e.value("name", "");
    if (!e.contains("valueFrom")) {
      out.vars[name] =
          e.contains("value") && e["value"].is_string() ? e["value"].get<std::string>() : "";
      continue;
    }
    std::string error;
    std::optional<std::string> value = ResolveValueFrom(pod, e["valueFrom"], ns, lookup, &error);
    if (!error.empty()) {
      out.config_error = error;
      return out;
    }
    if (value) out.vars[name] = *value;
  }
  return out;
}

std::vector<std::string> EffectiveArgv(const ImageBehavior& img, const json& container) {
  auto strings = [](const json& list) {
    std::vector<std::string> out;
    for (const json& v : list) out.push_back(v.is_string() ? v.get<std::string>() : v.dump());
    return out;
  };
  const bool has_command = container.contains("command") && container["command"].is_array();
  const bool has_args = container.contains("args") && container["args"].is_array();
  std::vector<std::string> argv = has_command ? strings(container["command"]) : img.entrypoint;
  std::vector<std::string> rest =
      has_args ? strings(container["args"]) : (has_command ? std::vector<std::string>{} : img.cmd);
  argv.insert(argv.end(), rest.begin(), rest.end());
  return argv;
}

namespace {

// The volume's directory under /var/lib/kubelet/pods/<uid>/volumes, and whether the kubelet
// mounts it read-only; empty for kinds kubesim does not model.
std::pair<std::string, bool> VolumePlugin(const json& volume) {
  if (volume.contains("configMap")) return {"kubernetes.io~configmap", true};
  if (volume.contains("secret")) return {"kubernetes.io~secret", true};
  if (volume.contains("projected")) return {"kubernetes.io~projected", true};
  if (volume.contains("downwardAPI")) return {"kubernetes.io~downward-api", true};
  if (volume.contains("emptyDir")) return {"kubernetes.io~empty-dir", false};
  return {"", false};
}

// Whether `sub_path` names a file of the volume (a ConfigMap/Secret key or an items[] path).
bool SubPathIsFile(const json& volume, const std::string& sub_path, const ObjectLookup& lookup) {
  const bool is_cm = volume.contains("configMap");
  if (!is_cm && !volume.contains("secret")) return false;  // emptyDir etc.: a new directory
  const json& src = is_cm ? volume["configMap"] : volume["secret"];
  if (src.contains("items")) {
    for (const json& item : src["items"]) {
      if (item.value("path", "") == sub_path) return true;
    }
    return false;
  }
  std::optional<json> obj = lookup(is_cm ? "configmaps" : "secrets",
                                   is_cm ? src.value("name", "") : src.value("secretName", ""));
  return obj && ObjectKey(*obj, sub_path, false).has_value();
}

// runc's error for a directory mounted over a file of the image, or "".
std::string MountError(const ImageBehavior& img, const json& pod, const json& container,
                       const ObjectLookup& lookup) {
  const std::string uid = pod["metadata"].value("uid", "");
  const json volumes = pod["spec"].value("volumes", json::array());
  const json mounts = container.value("volumeMounts", json::array());
  for (size_t i = 0; i < mounts.size(); ++i) {
    const json& m = mounts[i];
    const std::string target = m.value("mountPath", "");
    if (std::find(img.files.begin(), img.files.end(), target) == img.files.end()) continue;
    auto v = std::find_if(volumes.begin(), volumes.end(), [&](const json& vol) {
      return vol.value("name", "") == m.value("name", "");
    });
    if (v == volumes.end()) continue;
    auto [plugin, read_only] = VolumePlugin(*v);
    if (plugin.empty()) continue;
    const std::string sub_path = m.value("subPath", "");
    if (!sub_path.empty() && SubPathIsFile(*v, sub_path, lookup)) continue;
    const std::string name = m.value("name", "");
    const std::string source =
        sub_path.empty()
            ? absl::StrCat("/var/lib/kubelet/pods/", uid, "/volumes/", plugin, "/", name)
            : absl::StrCat("/var/lib/kubelet/pods/", uid, "/volume-subpaths/", name, "/",
                           container.value("name", ""), "/", i);
    const bool ro = read_only || m.value("readOnly", false);
    return absl::StrCat(kRuncPrefix, "error during container init: error mounting \"", source,
                        "\" to rootfs at \"", target, "\": mount ", source, ":", target,
                        " (via /proc/self/fd/6), flags: ", ro ? "0x5001" : "0x5000",
                        ": not a directory: unknown");
  }
  return "";
}

}  // namespace

namespace {

// "-Xmx512m" sizes: bytes, or k/m/g/t (binary) suffixes; -1 when not a size.
int64_t JvmSize(const std::string& text) {
  if (text.empty()) return -1;
  int64_t mult = 1;
  std::string num = text;
  switch (absl::ascii_tolower(static_cast<unsigned char>(text.back()))) {
    case 'k':
      mult = 1LL << 10;
      break;
    case 'm':
      mult = 1LL << 20;
      break;
    case 'g':
      mult = 1LL << 30;
      break;
    case 't':
      mult = 1LL << 40;
      break;
    default:
      mult = 0;
      break;
  }
  if (mult != 0)
    num.pop_back();
  else
    mult = 1;
  int64_t v = 0;
  return absl::SimpleAtoi(num, &v) && v > 0 ? v * mult : -1;
}

struct Heap {
  int64_t bytes = 0;
  bool exit_on_oom = false;
  std::vector<std::string> logs;  // "Picked up JAVA_TOOL_OPTIONS: ..."
};

// The JVM's max heap: the last -Xmx or -XX:MaxRAMPercentage of the scanned variables (in the
// image's order) and then of the command line; else defaultPercent of the memory it sees.
Heap JvmHeap(const ImageBehavior& img, const ContainerInputs& in,
             const std::vector<std::string>& args) {
  Heap heap;
  std::vector<std::string> tokens;
  for (const std::string& var : img.heap_envs) {
    auto it = in.env->vars.find(var);
    if (it == in.env->vars.end()) continue;
    if (var == "JAVA_TOOL_OPTIONS" || var == "JDK_JAVA_OPTIONS") {
      heap.logs.push_back(absl::StrCat(
          var == "JAVA_TOOL_OPTIONS" ? "Picked up " : "NOTE: Picked up ", var, ": ", it->second));
    }
    for (absl::string_view t : absl::StrSplit(it->second, ' ', absl::SkipWhitespace())) {
      tokens.emplace_back(t);
    }
  }
  if (img.heap_args) tokens.insert(tokens.end(), args.begin(), args.end());
  const int64_t seen = in.memory_limit > 0 ? in.memory_limit : in.node_memory;
  int64_t xmx = -1;
  double percent = img.heap_default_percent;
  for (const std::string& t : tokens) {
    if (absl::StartsWith(t, "-Xmx") && JvmSize(t.substr(4)) > 0) xmx = JvmSize(t.substr(4));
    if (absl::StartsWith(t, "-XX:MaxRAMPercentage=")) {
      double p = 0;
      if (absl::SimpleAtod(t.substr(21), &p)) {
        percent = p;
        xmx = -1;
      }
    }
    if (t == "-XX:+ExitOnOutOfMemoryError") heap.exit_on_oom = true;
  }
  heap.bytes = xmx > 0 ? xmx : static_cast<int64_t>(static_cast<double>(seen) * percent / 100.0);
  return heap;
}

bool UnknownFlag(const ImageBehavior& img, const std::vector<std::string>& args,
                 ProcessPlan* plan) {
  for (const std::string& a : args) {
    if (a == "--") break;
    if (a.size() < 2 || a[0] != '-') continue;
    const std::string name = a.substr(0, a.find('='));
    if (std::find(img.known_flags.begin(), img.known_flags.end(), name) != img.known_flags.end()) {
      continue;
    }
    const std::string bare = name.substr(name.find_first_not_of('-'));
    for (const auto& line : img.unknown_flag_logs) {
      plan->exit_logs.push_back(Subst(line, {{"${FLAGNAME}", bare}, {"${FLAG}", a}}));
    }
    plan->exits = true;
    plan->exit_after_seconds = 0.2;
    plan->exit_code = img.unknown_flag_exit_code;
    return true;
  }
  return false;
}

bool MissingEnv(const ImageBehavior& img, const ResolvedEnv& env, ProcessPlan* plan) {
  std::vector<std::string> missing;
  for (const auto& var : img.required_env) {
    if (!env.vars.count(var)) missing.push_back(var);
  }
  for (const auto& var : img.non_empty_env) {
    auto it = env.vars.find(var);
    if ((it == env.vars.end() || it->second.empty()) &&
        std::find(missing.begin(), missing.end(), var) == missing.end()) {
      missing.push_back(var);
    }
  }
  if (missing.empty()) return false;
  for (const auto& var : missing) {
    for (const auto& line : img.missing_env_logs) {
      plan->exit_logs.push_back(Subst(line, {{"${VAR}", var}}));
    }
  }
  plan->exits = true;
  plan->exit_after_seconds = 0.5;
  plan->exit_code = img.missing_env_exit_code;
  return true;
}

// readOnlyRootFilesystem: the first path the program writes with no volume at or above it.
bool ReadOnlyFailure(const ImageBehavior& img, const json& container, ProcessPlan* plan) {
  const json sc = container.value("securityContext", json::object());
  if (!sc.is_object() || !sc.value("readOnlyRootFilesystem", false)) return false;
  const json mounts = container.value("volumeMounts", json::array());
  for (const auto& wp : img.writable_paths) {
    const bool covered = std::any_of(mounts.begin(), mounts.end(), [&](const json& m) {
      std::string at = m.value("mountPath", "");
      while (at.size() > 1 && at.back() == '/') at.pop_back();
      return !m.value("readOnly", false) && (wp.path == at || absl::StartsWith(wp.path, at + "/"));
    });
    if (covered) continue;
    for (const auto& line : wp.logs) plan->exit_logs.push_back(Subst(line, {{"${FILE}", wp.path}}));
    plan->exits = true;
    plan->exit_after_seconds = 0.5;
    plan->exit_code = img.read_only_exit_code;
    return true;
  }
  return false;
}

// `args` are the program's arguments, `argv` the whole command line (the JVM reads -Xmx anywhere
// in it, e.g. `sh -c "exec java -Xmx1g -jar app.jar"`).
void PlanProgram(const ImageBehavior& img, const ContainerInputs& in,
                 const std::vector<std::string>& args, const std::vector<std::string>& argv,
                 ProcessPlan* plan) {
  plan->serves = true;
  if (img.has_flags && UnknownFlag(img, args, plan)) return;
  Heap heap;
  if (img.has_heap) {
    std::vector<std::string> words;
    for (const auto& a : argv) {
      for (absl::string_view w : absl::StrSplit(a, ' ', absl::SkipWhitespace()))
        words.emplace_back(w);
    }
    heap = JvmHeap(img, in, words);
    plan->start_logs.insert(plan->start_logs.begin(), heap.logs.begin(), heap.logs.end());
    plan->working_set_bytes = img.working_set_bytes + heap.bytes;
  }
  plan->start_logs.insert(plan->start_logs.end(), img.start_logs.begin(), img.start_logs.end());
  if (MissingEnv(img, *in.env, plan) || ReadOnlyFailure(img, *in.container, plan)) return;
  plan->exits = true;
  if (img.has_heap && heap.bytes < img.heap_needs_bytes) {
    plan->exit_after_seconds = img.oom_after_seconds;
    plan->exit_code = heap.exit_on_oom ? 3 : 1;
    plan->exit_logs = {heap.exit_on_oom
                           ? "Terminating due to java.lang.OutOfMemoryError: Java heap space"
                           : "Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap "
                             "space"};
    return;
  }
  if (in.memory_limit > 0 && in.memory_limit < plan->working_set_bytes) {
    plan->exit_after_seconds = img.oom_after_seconds;
    plan->exit_code = 137;
    plan->exit_reason = "OOMKilled";
    return;
  }
  if (img.crashes) {
    plan->exit_after_seconds = img.crash_after_seconds;
    plan->exit_code = img.crash_exit_code;
    plan->exit_logs = img.crash_logs;
    return;
  }
  plan->exits = false;
}

}  // namespace

ProcessPlan PlanProcess(const ImageBehavior& img, const ContainerInputs& in) {
  ProcessPlan plan;
  plan.working_set_bytes = img.working_set_bytes;
  plan.start_error = MountError(img, *in.pod, *in.container, in.lookup);
  if (!plan.start_error.empty()) return plan;
  const std::vector<std::string> argv = EffectiveArgv(img, *in.container);
  if (!argv.empty() && !FindExecutable(img, argv[0])) {
    plan.start_error = absl::StrCat(kRuncPrefix, ExecNotFound(argv[0]), ": unknown");
    return plan;
  }
  Run run = Interpret(img, argv, 0);
  plan.start_logs = run.logs;
  plan.serves = false;
  if (run.kind == Run::kExit) {
    plan.exits = true;
    plan.exit_after_seconds = 0.5 + run.delay_seconds;
    plan.exit_code = run.exit_code;
  } else if (run.kind == Run::kSleep) {
    plan.exits = run.sleep_seconds >= 0;
    plan.exit_after_seconds = run.delay_seconds + std::max(0.0, run.sleep_seconds);
  } else {
    PlanProgram(img, in, run.program_args, argv, &plan);
    plan.exit_after_seconds += run.delay_seconds;
  }
  if (plan.exits && plan.exit_reason.empty()) {
    plan.exit_reason = plan.exit_code == 0 ? "Completed" : "Error";
  }
  return plan;
}

ExecOutcome RunExec(const ImageBehavior& img, const std::vector<std::string>& argv,
                    const std::string& exec_id_seed) {
  ExecOutcome out;
  if (argv.empty()) return out;
  if (!FindExecutable(img, argv[0])) {
    std::string id;
    uint32_t h = Fnv32a(exec_id_seed);
    for (int i = 0; i < 8; ++i) {
      h = Fnv32a(absl::StrCat(exec_id_seed, h, i));
      char buf[9];
      std::snprintf(buf, sizeof(buf), "%08x", h);
      id += buf;
    }
    out.ok = false;
    out.errored = true;
    out.output = absl::StrCat(
        "rpc error: code = Unknown desc = failed to exec in container: failed to start exec \"", id,
        "\": OCI runtime exec failed: exec failed: unable to start container process: ",
        ExecNotFound(argv[0]), ": unknown");
    return out;
  }
  const std::string joined = absl::StrJoin(argv, " ");
  for (const auto& r : img.exec_results) {
    if (!absl::StartsWith(joined, r.command)) continue;
    out.ok = r.exit_code == 0;
    out.output = r.output;
    return out;
  }
  Run run = Interpret(img, argv, 0);
  if (run.kind == Run::kExit && run.exit_code != 0) {
    out.ok = false;
    out.output = absl::StrJoin(run.logs, "\n");
  }
  return out;
}

}  // namespace remediator::kubesim
