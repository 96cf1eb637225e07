// LineMatcher: matches log lines against a set of error signatures (RE2 patterns) behind a fast
// literal prefilter. Usable standalone, e.g. as the log-shipper's optional pre-filter:
//
//   ASSIGN_OR_RETURN(std::unique_ptr<LineMatcher> m, LineMatcher::Create(DefaultLogPatterns()));
//   if (m->IsCandidate(line)) {             // cheap; false => no pattern can match
//     std::optional<LineMatch> hit = m->Match(line);   // exact, best pattern by priority
//   }
//   m->ScanBuffer(batch, [&](std::string_view line, const std::vector<int>& ids) { ... });
//
// Contract:
//   - Patterns use RE2 syntax, are unanchored (add ^/$ yourself) and case-sensitive unless they
//     say (?i). A "line" is any text; it should not contain '\n' (ScanBuffer splits on '\n').
//   - IsCandidate(line) is a superset test: if it returns false, Match(line) returns nullopt.
//     It may return true for lines that match nothing (the literal was there, the regex was not).
//   - Match/MatchAll are exact: they report what RE2 reports for each pattern on the line.
//   - Match picks, among the matching patterns, the highest `priority`, then the lowest id.
//   - Cost: lines without a "gate" literal (a minimal subset of the literals RE2 requires, chosen
//     at Create) cost one SIMD pass (GB/s); lines with one are scanned for all literals and only
//     the patterns whose literals are all there run RE2. A pattern from which RE2 cannot extract a
//     literal of at least 3 bytes (e.g. "^\\d+$") makes every line a candidate: it still
//     works, slowly; `always_candidate()` tells.
//   - Immutable after Create; all const methods are thread-safe.
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_LINE_MATCHER_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_LINE_MATCHER_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "remediator/v1/remediator.pb.h"

namespace re2 {
class FilteredRE2;
}

namespace remediator::detection {

class LiteralScanner;

// How much one matching line says on its own.
enum class Strength {
  // One line is enough to call the observation a failure (a crash signature).
  kStrong,
  // Needs repetition (see Detector): a timeout, a refused connection during a retry, a 5xx.
  kWeak,
};

// One error signature.
struct PatternSpec {
  // Stable identifier, used as Detection.reason, e.g. "nginx_host_not_found".
  std::string name;
  // RE2 pattern (see the contract above).
  std::string regex;
  // What a match means for the workload that logged it.
  v1::ErrorClass error_class = v1::ERROR_CLASS_APP_ERROR_LOG;
  bool fixable_by_manifest = false;
  Strength strength = Strength::kStrong;
  // Higher wins when several patterns match in one line or observation: specific signatures
  // (k8s-failures.md §5) use 20..30, generic ones (the benchmark set) 10.
  int priority = 10;
};

struct LineMatch {
  int pattern_id = -1;
  const PatternSpec* pattern = nullptr;
};

class LineMatcher {
 public:
  // InvalidArgument when `patterns` is empty, a name is empty or duplicated, or a regex does not
  // compile (the message names the pattern and RE2's error).
  static absl::StatusOr<std::unique_ptr<LineMatcher>> Create(std::vector<PatternSpec> patterns);

  // Convenience for pattern files such as shared/bench/error-patterns.txt: one regex per line,
  // blank lines and lines starting with '#' skipped; name = "pattern_<n>" (n from 0), class
  // app_error_log, priority 10.
  static absl::StatusOr<std::unique_ptr<LineMatcher>> FromRegexLines(const std::string& text);

  ~LineMatcher();
  LineMatcher(const LineMatcher&) = delete;
  LineMatcher& operator=(const LineMatcher&) = delete;

  bool IsCandidate(std::string_view line) const;
  std::optional<LineMatch> Match(std::string_view line) const;
  // Sets *pattern_ids to every pattern that matches `line`, ascending; returns !empty().
  bool MatchAll(std::string_view line, std::vector<int>* pattern_ids) const;

  // Splits `buffer` on '\n' (a final line without '\n' counts; a trailing '\r' is kept) and calls
  // on_match(line, pattern_ids) for each line that matches at least one pattern, in order.
  // Scans the whole buffer with the prefilter once instead of line by line.
  void ScanBuffer(std::string_view buffer,
                  const std::function<void(std::string_view line,
                                           const std::vector<int>& pattern_ids)>& on_match) const;

  const PatternSpec& pattern(int id) const { return patterns_[id]; }
  int size() const { return static_cast<int>(patterns_.size()); }
  bool always_candidate() const { return always_candidate_; }
  // The literals RE2 requires (lower case), and the subset scanned over every byte (the gate),
  // for tests and diagnostics.
  const std::vector<std::string>& literals() const { return atoms_; }
  const std::vector<std::string>& gate_literals() const { return gate_atoms_; }

 private:
  LineMatcher();
  void Candidates(std::string_view line, std::vector<int>* atom_ids) const;

  std::vector<PatternSpec> patterns_;
  std::unique_ptr<re2::FilteredRE2> filter_;
  // All atoms: tells FilteredRE2 exactly which atoms a candidate line holds.
  std::unique_ptr<LiteralScanner> scanner_;
  // The gate: a small subset of the atoms such that every line some pattern matches contains at
  // least one of them (see line_matcher.cc). Scanned first, over every byte.
  std::unique_ptr<LiteralScanner> gate_;
  std::vector<std::string> atoms_;
  std::vector<std::string> gate_atoms_;
  // atom_alone_[a]: some pattern may match a line in which atom a is the only literal found.
  std::vector<bool> atom_alone_;
  bool always_candidate_ = false;
};

}  // namespace remediator::detection

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_DETECTION_LINE_MATCHER_H_
