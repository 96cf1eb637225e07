#include "server/remediator/core/remediation/exec_content.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace remediator::remediation {
namespace {

using json = nlohmann::json;

// Characters that make a shell do something other than pass a word along.
constexpr absl::string_view kShellMeta = "|;&$`<>(){}[]*?!\\'\"\n";

// Programs that fetch from the network (or open a raw connection).
const std::set<std::string>& DownloadTools() {
  static const auto* tools = new std::set<std::string>{
      "curl",        "wget",         "fetch",    "ftp",        "tftp",
      "sftp",        "scp",          "ssh",      "rsync",      "nc",
      "ncat",        "netcat",       "socat",    "telnet",     "aria2c",
      "lwp-request", "lwp-download", "httpie",   "iwr",        "invoke-webrequest",
      "certutil",    "bitsadmin",    "urllib",   "urllib2",    "urlopen",
      "requests",    "socket",       "net/http", "httpclient", "openssl_connect",
      "s_client"};
  return *tools;
}

// Programs and words that run code: shells, interpreters, evaluators.
const std::set<std::string>& Executors() {
  static const auto* executors = new std::set<std::string>{
      "sh",    "bash",    "dash",   "zsh",        "ash",       "ksh",    "csh",      "tcsh",
      "fish",  "busybox", "python", "perl",       "ruby",      "node",   "nodejs",   "php",
      "lua",   "tclsh",   "pwsh",   "powershell", "cmd",       "eval",   "exec",     "source",
      "xargs", "chmod",   "env",    "nohup",      "setsid",    "awk",    "gawk",     "expect",
      "deno",  "bun",     "java",   "jshell",     "osascript", "script", "run-parts"};
  return *executors;
}

// Words that decode a hidden payload.
const std::set<std::string>& Decoders() {
  static const auto* decoders =
      new std::set<std::string>{"base64", "b64decode", "base64decode", "frombase64string",
                                "atob",   "xxd",       "uudecode",     "openssl"};
  return *decoders;
}

// "/usr/bin/python3.11" -> "python"; "Invoke-WebRequest" -> "invoke-webrequest".
std::string ProgramName(absl::string_view word) {
  const size_t slash = word.rfind('/');
  if (slash != absl::string_view::npos && slash + 1 < word.size()) word = word.substr(slash + 1);
  std::string name = absl::AsciiStrToLower(word);
  while (!name.empty() && (absl::ascii_isdigit(name.back()) || name.back() == '.')) {
    name.pop_back();
  }
  return name;
}

// The words inside a token: runs of characters a shell would keep together.
std::vector<std::string> Words(const std::string& token) {
  std::vector<std::string> words;
  std::string current;
  for (char c : token) {
    const bool keep = absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                      std::string_view("._/+-@%,~").find(c) != std::string_view::npos;
    if (keep) {
      current += c;
    } else if (!current.empty()) {
      words.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) words.push_back(std::move(current));
  return words;
}

bool HasUrl(const std::string& text) {
  const size_t scheme = text.find("://");
  if (scheme != std::string::npos && scheme > 0) return true;
  const std::string lower = absl::AsciiStrToLower(text);
  return absl::StrContains(lower, "/dev/tcp/") || absl::StrContains(lower, "/dev/udp/");
}

// Four dot-separated numbers of 1..3 digits (an IPv4 address), anywhere in the text.
bool HasIpv4(const std::string& text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) continue;
    if (i > 0 &&
        (absl::ascii_isdigit(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == '.')) {
      continue;
    }
    size_t pos = i;
    int groups = 0;
    while (groups < 4) {
      size_t digits = 0;
      while (pos < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[pos])) &&
             digits < 4) {
        ++pos;
        ++digits;
      }
      if (digits == 0 || digits > 3) break;
      ++groups;
      if (groups == 4) break;
      if (pos >= text.size() || text[pos] != '.') break;
      ++pos;
    }
    if (groups == 4) return true;
  }
  return false;
}

// A run of 32 or more base64 characters: an encoded payload.
bool HasBase64Blob(const std::string& text) {
  size_t run = 0;
  bool mixed = false;
  bool lower = false, upper = false, digit = false;
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (absl::ascii_isalnum(u) || c == '+' || c == '/' || c == '=') {
      ++run;
      lower = lower || absl::ascii_islower(u);
      upper = upper || absl::ascii_isupper(u);
      digit = digit || absl::ascii_isdigit(u);
      mixed = lower && upper && digit;
      if (run >= 32 && mixed) return true;
    } else {
      run = 0;
      lower = upper = digit = mixed = false;
    }
  }
  return false;
}

bool HasNonAscii(const std::string& text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) >= 0x80 || c == 0; });
}

struct Signals {
  std::set<std::string> network;   // what fetches: "curl", "a URL", "an IP address"
  std::set<std::string> executes;  // what runs: "sh", "a pipe", "$(...)"
  std::set<std::string> decodes;   // what decodes: "base64", "a base64 blob"
};

Signals SignalsOf(const std::vector<std::string>& tokens) {
  Signals s;
  for (const std::string& token : tokens) {
    if (HasUrl(token)) s.network.insert("a URL (" + token.substr(0, 60) + ")");
    if (HasIpv4(token)) s.network.insert("an IP address");
    if (HasBase64Blob(token)) s.decodes.insert("a base64 blob");
    if (absl::StrContains(token, "|")) s.executes.insert("a pipe");
    if (absl::StrContains(token, ";") || absl::StrContains(token, "&&")) {
      s.executes.insert("a command separator");
    }
    if (absl::StrContains(token, "$(") || absl::StrContains(token, "`")) {
      s.executes.insert("command substitution");
    }
    if (absl::StrContains(token, ">") || absl::StrContains(token, "<")) {
      s.executes.insert("a redirection");
    }
    for (const std::string& word : Words(token)) {
      const std::string name = ProgramName(word);
      if (DownloadTools().count(name) > 0) s.network.insert(name);
      if (Executors().count(name) > 0) s.executes.insert(name);
      if (Decoders().count(name) > 0) s.decodes.insert(name);
    }
  }
  return s;
}

bool AnyNew(const std::set<std::string>& after, const std::set<std::string>& before) {
  return std::any_of(after.begin(), after.end(),
                     [&](const std::string& s) { return before.count(s) == 0; });
}

std::string First(const std::set<std::string>& s) { return s.empty() ? "" : *s.begin(); }

// Why `token` may not replace `old` in a correction, or nullopt.
std::optional<std::string> BadCorrection(const std::string& old, const std::string& token) {
  if (HasNonAscii(token) && !HasNonAscii(old)) {
    return absl::StrCat("\"", token.substr(0, 60), "\" adds non-ASCII characters");
  }
  for (char c : token) {
    if (kShellMeta.find(c) != absl::string_view::npos && old.find(c) == std::string::npos) {
      return absl::StrCat("\"", token.substr(0, 60), "\" adds the shell character '",
                          std::string(1, c), "'");
    }
  }
  if (HasUrl(token) && !HasUrl(old)) return absl::StrCat("\"", token.substr(0, 60), "\" is a URL");
  if (HasIpv4(token) && !HasIpv4(old)) {
    return absl::StrCat("\"", token.substr(0, 60), "\" holds an IP address");
  }
  if (HasBase64Blob(token)) return "a base64 blob";
  const Signals now = SignalsOf({token});
  const Signals was = SignalsOf({old});
  if (AnyNew(now.executes, was.executes) || AnyNew(now.network, was.network) ||
      AnyNew(now.decodes, was.decodes)) {
    return absl::StrCat("\"", token.substr(0, 60), "\" names an interpreter or download tool");
  }
  const int distance = EditDistance(old, token);
  const int allowed = std::max<int>(1, std::min<int>(2, static_cast<int>(old.size()) / 3));
  if (distance > allowed) {
    return absl::StrCat("\"", old.substr(0, 60), "\" -> \"", token.substr(0, 60), "\" is ",
                        distance, " edits apart (a correction is at most ", allowed, ")");
  }
  return std::nullopt;
}

}  // namespace

int EditDistance(const std::string& a, const std::string& b) {
  const size_t n = a.size(), m = b.size();
  if (n > 256 || m > 256) return static_cast<int>(std::max(n, m));
  std::vector<std::vector<int>> d(n + 1, std::vector<int>(m + 1));
  for (size_t i = 0; i <= n; ++i) d[i][0] = static_cast<int>(i);
  for (size_t j = 0; j <= m; ++j) d[0][j] = static_cast<int>(j);
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      const int cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

std::vector<std::string> CommandTokens(const json& value) {
  std::vector<std::string> tokens;
  auto add = [&](const std::string& text) {
    for (absl::string_view t :
         absl::StrSplit(text, absl::ByAnyChar(" \t\r\n\f\v"), absl::SkipEmpty())) {
      tokens.emplace_back(t);
    }
  };
  if (value.is_null()) return tokens;
  if (value.is_string()) {
    add(value.get<std::string>());
  } else if (value.is_array()) {
    for (const json& element : value)
      add(element.is_string() ? element.get<std::string>() : element.dump());
  } else {
    add(value.dump());
  }
  return tokens;
}

std::optional<std::string> FetchAndExecReason(const std::vector<std::string>& before,
                                              const std::vector<std::string>& after) {
  const Signals now = SignalsOf(after);
  const Signals was = SignalsOf(before);
  const bool sources = !now.network.empty() || !now.decodes.empty();
  if (!sources || now.executes.empty()) return std::nullopt;
  const bool is_new = AnyNew(now.network, was.network) || AnyNew(now.decodes, was.decodes) ||
                      AnyNew(now.executes, was.executes);
  if (!is_new) return std::nullopt;
  const std::string source = !now.network.empty() ? First(now.network) : First(now.decodes);
  return absl::StrCat("brings code from elsewhere (", source, ") and runs it (",
                      First(now.executes), ")");
}

std::optional<std::string> NotATokenCorrection(const std::vector<std::string>& before,
                                               const std::vector<std::string>& after) {
  if (before.empty()) return "there was no command here to correct";
  if (after.size() != before.size()) {
    return absl::StrCat("changes the number of words (", before.size(), " -> ", after.size(),
                        "); a correction only fixes words");
  }
  for (size_t i = 0; i < before.size(); ++i) {
    if (before[i] == after[i]) continue;
    if (std::optional<std::string> bad = BadCorrection(before[i], after[i])) return bad;
  }
  return std::nullopt;
}

std::optional<std::string> CommandLikeValue(const std::string& value) {
  if (HasUrl(value)) return "looks like a URL";
  if (HasIpv4(value)) return "holds an IP address";
  if (HasBase64Blob(value)) return "holds a base64 blob";
  const Signals s = SignalsOf(CommandTokens(json(value)));
  if (!s.executes.empty() && !s.executes.count("chmod") && !s.executes.count("env")) {
    return absl::StrCat("looks like a command (", First(s.executes), ")");
  }
  if (!s.network.empty()) return absl::StrCat("names a download tool (", First(s.network), ")");
  return std::nullopt;
}

bool IsCodeLoadingVariable(const std::string& name) {
  static const auto* names = new std::set<std::string>{"LD_PRELOAD",      "LD_LIBRARY_PATH",
                                                       "LD_AUDIT",        "DYLD_INSERT_LIBRARIES",
                                                       "BASH_ENV",        "ENV",
                                                       "PROMPT_COMMAND",  "SHELLOPTS",
                                                       "NODE_OPTIONS",    "NODE_PATH",
                                                       "PYTHONSTARTUP",   "PYTHONPATH",
                                                       "PYTHONHOME",      "PERL5OPT",
                                                       "PERL5LIB",        "PERLLIB",
                                                       "RUBYOPT",         "RUBYLIB",
                                                       "GCONV_PATH",      "LUA_INIT",
                                                       "PHPRC",           "PHP_INI_SCAN_DIR",
                                                       "GIT_SSH_COMMAND", "GIT_EXEC_PATH"};
  return names->count(absl::AsciiStrToUpper(name)) > 0;
}

std::optional<std::string> JvmCodeOption(const std::string& value) {
  const std::string lower = absl::AsciiStrToLower(value);
  for (const char* option : {"-javaagent", "-agentpath", "-agentlib", "onoutofmemoryerror",
                             "-xx:onerror", "-xbootclasspath", "-djava.system.class.loader"}) {
    if (absl::StrContains(lower, option)) {
      return absl::StrCat("the JVM option ", option, " loads or runs code");
    }
  }
  return std::nullopt;
}

}  // namespace remediator::remediation
