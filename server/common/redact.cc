#include "server/common/redact.h"

#include <memory>
#include <string_view>
#include <vector>

#include "re2/re2.h"

namespace remediator {
namespace {

struct Rule {
  std::unique_ptr<RE2> pattern;
  std::string rewrite;
};

// The rules run in order; the earlier ones are the more specific. Each keeps the part of the match
// that tells a reader what was there (the key, the scheme, the user) and masks only the secret.
const std::vector<Rule>& Rules() {
  static const auto* rules = [] {
    auto* r = new std::vector<Rule>();
    RE2::Options options;
    options.set_case_sensitive(false);
    options.set_dot_nl(true);
    auto add = [&](const char* pattern, const char* rewrite, bool case_sensitive = false) {
      RE2::Options o = options;
      o.set_case_sensitive(case_sensitive);
      r->push_back(Rule{std::make_unique<RE2>(pattern, o), rewrite});
    };
    add(R"(-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$))",
        "[REDACTED PRIVATE KEY]", true);
    add(R"((authorization\s*[:=]\s*"?)(bearer|basic|token|digest)\s+[^\s",;]+)",
        "\\1\\2 [REDACTED]");
    add(R"(\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,})", "\\1 [REDACTED]");
    add(R"(([a-z][a-z0-9+.-]*://[^/\s:@]*):[^@\s/]+@)", "\\1:[REDACTED]@");
    add(R"(\b((?:[a-z0-9_-]*)(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|secret[_-]?key|private[_-]?key|credentials?)(?:[a-z0-9_-]*))(\\?["']?\s*[:=]\s*\\?["']?)([^\s"',;&}\\]+))",
        "\\1\\2[REDACTED]");
    add(R"(\b(AKIA|ASIA)[A-Z0-9]{16}\b)", "[REDACTED AWS KEY]", true);
    add(R"(\b(ghp|gho|ghu|ghs|ghr|github_pat|glpat|xox[abpr]|sk)[-_][A-Za-z0-9_-]{16,})",
        "[REDACTED TOKEN]", true);
    add(R"(\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})", "[REDACTED JWT]", true);
    return r;
  }();
  return *rules;
}

}  // namespace

std::string RedactSecrets(std::string text) {
  for (const Rule& rule : Rules()) {
    RE2::GlobalReplace(&text, *rule.pattern, rule.rewrite);
  }
  return text;
}

bool ContainsSecret(const std::string& text) { return RedactSecrets(text) != text; }

}  // namespace remediator
