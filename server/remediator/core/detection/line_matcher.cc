// RE2's FilteredRE2 extracts from each pattern the literals ("atoms") that any match must contain,
// as an AND/OR tree. LiteralScanner finds which atoms a line contains; FilteredRE2 then evaluates
// the tree and runs only the RE2s whose atoms are present.
//
// Scanning every byte for every atom is what costs (fingerprint false positives grow with the
// number of literals), so the first pass looks only for a "gate": a subset G of the atoms such
// that no pattern can match a line holding none of them. Construction, all exact because the
// prefilter tree is monotone (AND/OR of atoms): start with all atoms and greedily drop atoms,
// most common first (then shortest first), while AllPotentials(every atom that can be present
// with no atom of G present, i.e. not in G and not containing one) stays empty. "Common" is judged
// by occurrences in kTypicalLogs below, a few benign lines in the
//      usual formats, so that e.g. `"level":` leaves the gate and `"error"` stays.
// Lines with a gate atom are then scanned for all atoms and evaluated exactly.
#include "server/remediator/core/detection/line_matcher.h"

#include <algorithm>
#include <cstring>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "re2/filtered_re2.h"
#include "re2/re2.h"
#include "server/remediator/core/detection/literal_scanner.h"

namespace remediator::detection {
namespace {

re2::StringPiece Piece(std::string_view s) { return re2::StringPiece(s.data(), s.size()); }

RE2::Options PatternOptions() {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(64 << 20);
  return options;
}

// Benign lines in common formats (logfmt, JSON, nginx access/notice, Spring Boot, klog, plain);
// used only to order atoms by how common they are, never for matching.
constexpr std::string_view kTypicalLogs =
    "time=\"2024-05-01T12:00:00Z\" level=info msg=\"request served\" method=GET "
    "path=/api/v1/users status=200 duration=1.2ms\n"
    "{\"level\":\"info\",\"ts\":1714564800.123,\"logger\":\"http\",\"msg\":\"request "
    "completed\",\"status\":200,\"latency_ms\":1.5}\n"
    "10.0.0.1 - - [01/May/2024:12:00:00 +0000] \"GET /healthz HTTP/1.1\" 200 15 \"-\" "
    "\"kube-probe/1.29\"\n"
    "2024-05-01 12:00:00.123  INFO 1 --- [nio-8080-exec-1] c.e.demo.web.OrderController : order "
    "processed for user in line with the connection pool\n"
    "I0501 12:00:00.123456       1 controller.go:123] \"Reconciling\" pod=\"default/app-abc\"\n"
    "2025/05/31 09:00:00 [notice] 1#1: start worker processes\n";

size_t CountIn(std::string_view haystack, const std::string& needle) {
  size_t count = 0;
  for (size_t i = 0; i + needle.size() <= haystack.size(); ++i) {
    size_t j = 0;
    while (j < needle.size() &&
           absl::ascii_tolower(static_cast<unsigned char>(haystack[i + j])) == needle[j]) {
      ++j;
    }
    if (j == needle.size()) ++count;
  }
  return count;
}

// Indices of a gate (see the comment at the top of the file).
std::vector<int> ChooseGate(const re2::FilteredRE2& filter, const std::vector<std::string>& atoms) {
  const int n = static_cast<int>(atoms.size());
  std::vector<bool> in_gate(n, true);
  std::vector<int> order(n);
  for (int a = 0; a < n; ++a) order[a] = a;
  std::vector<size_t> common(n);
  for (int a : order) common[a] = CountIn(kTypicalLogs, atoms[a]);
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) {
    if (common[x] != common[y]) return common[x] > common[y];
    return atoms[x].size() < atoms[y].size();
  });
  std::vector<int> outside;
  std::vector<int> potentials;
  for (int candidate : order) {
    in_gate[candidate] = false;
    // Atoms that may be present while no gate atom is: not in the gate and not containing one.
    outside.clear();
    for (int a = 0; a < n; ++a) {
      bool implies_gate = in_gate[a];
      for (int g = 0; g < n && !implies_gate; ++g) {
        implies_gate = in_gate[g] && atoms[a].find(atoms[g]) != std::string::npos;
      }
      if (!implies_gate) outside.push_back(a);
    }
    filter.AllPotentials(outside, &potentials);
    if (!potentials.empty()) in_gate[candidate] = true;  // needed: put it back
  }
  std::vector<int> gate;
  for (int a = 0; a < n; ++a) {
    if (in_gate[a]) gate.push_back(a);
  }
  return gate;
}

}  // namespace

LineMatcher::LineMatcher() = default;
LineMatcher::~LineMatcher() = default;

absl::StatusOr<std::unique_ptr<LineMatcher>> LineMatcher::Create(
    std::vector<PatternSpec> patterns) {
  if (patterns.empty()) return absl::InvalidArgumentError("LineMatcher: no patterns given");
  std::unique_ptr<LineMatcher> m(new LineMatcher());
  m->filter_ =
      std::make_unique<re2::FilteredRE2>(static_cast<int>(LiteralScanner::kMinLiteralLength));
  std::set<std::string> names;
  for (size_t i = 0; i < patterns.size(); ++i) {
    const PatternSpec& p = patterns[i];
    if (p.name.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("LineMatcher: pattern #", i, " has no name"));
    }
    if (!names.insert(p.name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("LineMatcher: duplicate pattern name \"", p.name, "\""));
    }
    RE2 check(p.regex, PatternOptions());
    if (!check.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("LineMatcher: pattern \"", p.name, "\" does not compile: ", check.error()));
    }
    int id = -1;
    if (m->filter_->Add(Piece(p.regex), PatternOptions(), &id) != RE2::NoError ||
        id != static_cast<int>(i)) {
      return absl::InvalidArgumentError(
          absl::StrCat("LineMatcher: pattern \"", p.name, "\" was rejected by FilteredRE2"));
    }
  }
  m->patterns_ = std::move(patterns);
  m->filter_->Compile(&m->atoms_);

  std::vector<int> potentials;
  m->filter_->AllPotentials({}, &potentials);
  m->always_candidate_ = !potentials.empty();
  for (const std::string& atom : m->atoms_) {
    for (char c : atom) {
      // The scanner folds ASCII case only; RE2 lower-cases non-ASCII letters too.
      if (static_cast<unsigned char>(c) >= 0x80) m->always_candidate_ = true;
    }
  }
  m->atom_alone_.resize(m->atoms_.size());
  for (size_t a = 0; a < m->atoms_.size(); ++a) {
    m->filter_->AllPotentials({static_cast<int>(a)}, &potentials);
    m->atom_alone_[a] = !potentials.empty();
  }
  m->scanner_ = std::make_unique<LiteralScanner>(m->atoms_);
  if (!m->always_candidate_) {
    for (int a : ChooseGate(*m->filter_, m->atoms_)) m->gate_atoms_.push_back(m->atoms_[a]);
  }
  m->gate_ = std::make_unique<LiteralScanner>(m->gate_atoms_);
  return m;
}

absl::StatusOr<std::unique_ptr<LineMatcher>> LineMatcher::FromRegexLines(const std::string& text) {
  std::vector<PatternSpec> patterns;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty() && line[0] != '#') {
      PatternSpec spec;
      spec.name = absl::StrCat("pattern_", patterns.size());
      spec.regex = line;
      patterns.push_back(std::move(spec));
    }
    start = end + 1;
  }
  return Create(std::move(patterns));
}

void LineMatcher::Candidates(std::string_view line, std::vector<int>* atom_ids) const {
  scanner_->FindAll(line, atom_ids);
}

bool LineMatcher::IsCandidate(std::string_view line) const {
  if (always_candidate_) return true;
  if (!gate_->Contains(line)) return false;
  std::vector<int> atoms;
  Candidates(line, &atoms);
  if (atoms.empty()) return false;
  for (int a : atoms) {
    if (atom_alone_[a]) return true;
  }
  if (atoms.size() == 1) return false;
  std::vector<int> potentials;
  filter_->AllPotentials(atoms, &potentials);
  return !potentials.empty();
}

bool LineMatcher::MatchAll(std::string_view line, std::vector<int>* pattern_ids) const {
  pattern_ids->clear();
  if (!always_candidate_ && !gate_->Contains(line)) return false;
  std::vector<int> atoms;
  Candidates(line, &atoms);
  if (!always_candidate_) {
    if (atoms.empty()) return false;
    if (atoms.size() == 1 && !atom_alone_[atoms[0]]) return false;
  }
  filter_->AllMatches(Piece(line), atoms, pattern_ids);
  std::sort(pattern_ids->begin(), pattern_ids->end());
  return !pattern_ids->empty();
}

std::optional<LineMatch> LineMatcher::Match(std::string_view line) const {
  std::vector<int> ids;
  if (!MatchAll(line, &ids)) return std::nullopt;
  int best = ids[0];
  for (int id : ids) {
    if (patterns_[id].priority > patterns_[best].priority) best = id;
  }
  return LineMatch{best, &patterns_[best]};
}

void LineMatcher::ScanBuffer(
    std::string_view buffer,
    const std::function<void(std::string_view, const std::vector<int>&)>& on_match) const {
  std::vector<int> ids;
  const char* data = buffer.data();
  const size_t n = buffer.size();
  size_t pos = 0;
  if (always_candidate_) {
    while (pos < n) {
      const char* nl = static_cast<const char*>(std::memchr(data + pos, '\n', n - pos));
      const size_t end = nl ? static_cast<size_t>(nl - data) : n;
      const std::string_view line = buffer.substr(pos, end - pos);
      if (MatchAll(line, &ids)) on_match(line, ids);
      pos = end + 1;
    }
    return;
  }
  while (pos < n) {
    int atom = 0;
    const size_t hit = gate_->Find(buffer, pos, pos, &atom);
    if (hit == LiteralScanner::kNotFound) return;
    size_t begin = pos;
    if (hit > pos) {
      const void* nl = memrchr(data + pos, '\n', hit - pos);
      if (nl != nullptr) begin = static_cast<const char*>(nl) - data + 1;
    }
    const char* nl = static_cast<const char*>(std::memchr(data + hit, '\n', n - hit));
    const size_t end = nl ? static_cast<size_t>(nl - data) : n;
    const std::string_view line = buffer.substr(begin, end - begin);
    if (MatchAll(line, &ids)) on_match(line, ids);
    pos = end + 1;
  }
}

}  // namespace remediator::detection
