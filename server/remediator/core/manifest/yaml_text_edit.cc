#include "server/remediator/core/manifest/yaml_text_edit.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "server/common/status_macros.h"
#include "server/remediator/core/manifest/yaml_json.h"

namespace remediator::manifest {
namespace {

using nlohmann::json;

struct Range {
  size_t begin;
  size_t end;  // exclusive
};

bool IsContent(const std::string& line) {
  size_t first = line.find_first_not_of(" \t");
  return first != std::string::npos && line[first] != '#';
}

int IndentOf(const std::string& line) {
  size_t first = line.find_first_not_of(' ');
  return first == std::string::npos ? static_cast<int>(line.size()) : static_cast<int>(first);
}

bool IsSeparator(const std::string& line) {
  return line.rfind("---", 0) == 0 && (line.size() == 3 || line[3] == ' ' || line[3] == '\t');
}

bool StartsSeqItem(const std::string& line, int col) {
  const size_t c = static_cast<size_t>(col);
  return line.size() > c && line[c] == '-' && (line.size() == c + 1 || line[c + 1] == ' ');
}

// Documents are the chunks between "---" lines that hold at least one content line.
std::vector<Range> FindDocuments(const std::vector<std::string>& lines) {
  std::vector<Range> docs;
  size_t start = 0;
  auto close = [&](size_t end) {
    for (size_t i = start; i < end; ++i) {
      if (IsContent(lines[i]) && lines[i] != "...") {
        docs.push_back({start, end});
        return;
      }
    }
  };
  for (size_t i = 0; i < lines.size(); ++i) {
    if (IsSeparator(lines[i])) {
      close(i);
      start = i + 1;
    }
  }
  close(lines.size());
  return docs;
}

absl::StatusOr<YAML::Node> Load(const std::vector<std::string>& lines) {
  try {
    return YAML::Load(absl::StrJoin(lines, "\n"));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid YAML at line ", e.mark.line + 1, ": ", e.msg));
  }
}

// The position just past the end of a quoted scalar starting at `col`, or npos.
size_t QuotedEnd(const std::string& line, size_t col) {
  const char quote = line[col];
  for (size_t i = col + 1; i < line.size(); ++i) {
    if (quote == '"' && line[i] == '\\') {
      ++i;
    } else if (line[i] == quote) {
      if (quote == '\'' && i + 1 < line.size() && line[i + 1] == '\'') {
        ++i;
        continue;
      }
      return i + 1;
    }
  }
  return std::string::npos;
}

// The end of a flow collection starting at `col`, or npos when it does not close on the line.
size_t FlowEnd(const std::string& line, size_t col) {
  int depth = 0;
  for (size_t i = col; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '"' || c == '\'') {
      size_t end = QuotedEnd(line, i);
      if (end == std::string::npos) return end;
      i = end - 1;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::string::npos;
}

// The end of a plain scalar at `col`: before " #", and in flow context before , } ].
size_t PlainEnd(const std::string& line, size_t col, bool in_flow) {
  size_t end = col;
  while (end < line.size()) {
    const char c = line[end];
    if (c == '#' && end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t')) break;
    if (in_flow && (c == ',' || c == '}' || c == ']')) break;
    ++end;
  }
  while (end > col && (line[end - 1] == ' ' || line[end - 1] == '\t')) --end;
  return end;
}

// The trailing " # comment" of a line after `from`, if any (outside quotes).
std::string TrailingComment(const std::string& line, size_t from) {
  for (size_t i = from; i < line.size(); ++i) {
    if (line[i] == '"' || line[i] == '\'') {
      size_t end = QuotedEnd(line, i);
      if (end == std::string::npos) return "";
      i = end - 1;
    } else if (line[i] == '#' && i > 0 && (line[i - 1] == ' ' || line[i - 1] == '\t')) {
      return "  " + line.substr(i);
    }
  }
  return "";
}

// One step of a walk down the document.
struct Step {
  YAML::Node node;
  bool via_key = false;
  YAML::Mark key_mark;  // when via_key
};

class DocumentEditor {
 public:
  explicit DocumentEditor(std::vector<std::string> lines) : lines_(std::move(lines)) {}
  const std::vector<std::string>& lines() const { return lines_; }

  absl::Status Apply(const TextChange& change) {
    ASSIGN_OR_RETURN(YAML::Node root, Load(lines_));
    std::vector<Step> steps;
    for (const PathSegment& segment : change.path) {
      std::optional<Step> next = Descend(steps.empty() ? root : steps.back().node, segment);
      if (!next) break;
      steps.push_back(*std::move(next));
    }
    const bool found = steps.size() == change.path.size();
    if (found && change.value.is_null()) return Remove(root, steps, change);
    if (found) return Replace(root, steps, change);
    if (change.value.is_null()) return absl::OkStatus();
    return Insert(root, steps, change);
  }

 private:
  // yaml-cpp's Node::operator= assigns through to the referenced node; Steps are therefore only
  // ever copy-constructed (which shares the node) and never assigned.
  static std::optional<Step> Descend(const YAML::Node& node, const PathSegment& segment) {
    if (segment.kind == PathSegment::Kind::kKey) {
      if (!node.IsMap()) return std::nullopt;
      for (const auto& entry : node) {
        if (entry.first.IsScalar() && entry.first.Scalar() == segment.key) {
          return Step{YAML::Node(entry.second), true, entry.first.Mark()};
        }
      }
      return std::nullopt;
    }
    if (!node.IsSequence()) return std::nullopt;
    if (segment.kind == PathSegment::Kind::kIndex) {
      if (segment.index >= node.size()) return std::nullopt;
      size_t i = 0;
      for (const auto& item : node) {
        if (i++ == segment.index) return Step{YAML::Node(item), false, YAML::Mark()};
      }
      return std::nullopt;
    }
    for (const auto& item : node) {
      if (!item.IsMap()) continue;
      for (const auto& entry : item) {
        if (entry.first.Scalar() == segment.key && entry.second.IsScalar() &&
            entry.second.Scalar() == segment.value) {
          return Step{YAML::Node(item), false, YAML::Mark()};
        }
      }
    }
    return std::nullopt;
  }

  // The node a step was taken from: the previous step's node, or the root.
  static const YAML::Node& ParentOf(const YAML::Node& root, const std::vector<Step>& steps,
                                    size_t i) {
    return i == 0 ? root : steps[i - 1].node;
  }

  static bool IsFlow(const YAML::Node& node) {
    return (node.IsMap() || node.IsSequence()) && node.Style() == YAML::EmitterStyle::Flow;
  }

  // The last line of the block value of a key at (line, col).
  size_t KeyBlockEnd(size_t line, int col) const {
    size_t last = line;
    for (size_t i = line + 1; i < lines_.size(); ++i) {
      if (!IsContent(lines_[i])) continue;
      const int indent = IndentOf(lines_[i]);
      if (indent > col || (indent == col && StartsSeqItem(lines_[i], col))) {
        last = i;
      } else {
        break;
      }
    }
    return last;
  }

  // The last line of a block map whose keys start at `col`, beginning at `line`.
  size_t MapEnd(size_t line, int col) const {
    size_t last = line;
    for (size_t i = line + 1; i < lines_.size(); ++i) {
      if (!IsContent(lines_[i])) continue;
      if (IndentOf(lines_[i]) < col) break;
      last = i;
    }
    return last;
  }

  // The last line of a block sequence whose dashes are at `col`, beginning at `line`: the same
  // rule as a key's block (deeper lines, or further items at the same column).
  size_t SeqEnd(size_t line, int col) const { return KeyBlockEnd(line, col); }

  // The last line of the sequence item whose dash is at (line, col).
  size_t ItemEnd(size_t line, int col) const {
    size_t last = line;
    for (size_t i = line + 1; i < lines_.size(); ++i) {
      if (!IsContent(lines_[i])) continue;
      if (IndentOf(lines_[i]) <= col) break;
      last = i;
    }
    return last;
  }

  // The column just past "key:" on the key's line.
  absl::StatusOr<size_t> AfterColon(const YAML::Mark& key_mark) const {
    const std::string& line = lines_[static_cast<size_t>(key_mark.line)];
    size_t pos = static_cast<size_t>(key_mark.column);
    if (pos < line.size() && (line[pos] == '"' || line[pos] == '\'')) {
      pos = QuotedEnd(line, pos);
      if (pos == std::string::npos) return absl::InvalidArgumentError("unclosed quoted key");
    }
    size_t colon = line.find(':', pos);
    if (colon == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", key_mark.line + 1, ": cannot find the key's ':'"));
    }
    return colon + 1;
  }

  // Re-emits a single-line flow collection `node` as `value`.
  absl::Status ReplaceFlow(const YAML::Node& node, const json& value) {
    const size_t line = static_cast<size_t>(node.Mark().line);
    const size_t col = static_cast<size_t>(node.Mark().column);
    const size_t end = FlowEnd(lines_[line], col);
    if (end == std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", line + 1, ": multi-line flow collections are not supported"));
    }
    lines_[line] = lines_[line].substr(0, col) + FormatYamlValue(value) + lines_[line].substr(end);
    return absl::OkStatus();
  }

  // Replaces the value of the key at `key_mark` (whatever its form) with `value`.
  absl::Status ReplaceKeyValue(const YAML::Node& old_value, const YAML::Mark& key_mark,
                               const json& value) {
    const size_t line = static_cast<size_t>(key_mark.line);
    if (IsFlow(old_value) && static_cast<size_t>(old_value.Mark().line) == line) {
      const bool scalar = !value.is_object() && !value.is_array();
      if (scalar || FlowEnd(lines_[line], static_cast<size_t>(old_value.Mark().column)) !=
                        std::string::npos) {
        return ReplaceFlow(old_value, value);
      }
    }
    ASSIGN_OR_RETURN(size_t after, AfterColon(key_mark));
    const std::string comment = TrailingComment(lines_[line], after);
    const size_t block_end = KeyBlockEnd(line, key_mark.column);
    const bool collection = (value.is_object() || value.is_array()) && !value.empty();
    std::string head = lines_[line].substr(0, after);
    if (!collection) head += " " + FormatYamlValue(value);
    head += comment;
    std::vector<std::string> replacement = {head};
    if (collection) {
      for (auto& l : EmitBlock("", value, key_mark.column + 2)) replacement.push_back(l);
    }
    lines_.erase(lines_.begin() + static_cast<long>(line),
                 lines_.begin() + static_cast<long>(block_end) + 1);
    lines_.insert(lines_.begin() + static_cast<long>(line), replacement.begin(), replacement.end());
    return absl::OkStatus();
  }

  absl::Status Replace(const YAML::Node& root, const std::vector<Step>& steps,
                       const TextChange& change) {
    const Step& target = steps.back();
    const YAML::Node& parent = ParentOf(root, steps, steps.size() - 1);
    const bool scalar_value = !change.value.is_object() && !change.value.is_array();
    if (scalar_value && (target.node.IsScalar() || target.node.IsNull())) {
      const size_t line = static_cast<size_t>(target.node.Mark().line);
      const size_t col = static_cast<size_t>(target.node.Mark().column);
      const std::string& text = line < lines_.size() ? lines_[line] : "";
      const char first = col < text.size() ? text[col] : '\0';
      const bool block_scalar = first == '|' || first == '>';
      const bool on_key_line = !target.via_key || static_cast<int>(line) == target.key_mark.line;
      if (!block_scalar && on_key_line && col < text.size() && first != '#') {
        size_t end;
        char quote = 0;
        if (first == '"' || first == '\'') {
          quote = first;
          end = QuotedEnd(text, col);
          if (end == std::string::npos) {
            return absl::InvalidArgumentError(
                absl::StrCat("line ", line + 1, ": multi-line quoted scalars are not supported"));
          }
        } else {
          end = PlainEnd(text, col, IsFlow(parent));
        }
        lines_[line] =
            text.substr(0, col) + FormatYamlValue(change.value, quote) + text.substr(end);
        return absl::OkStatus();
      }
    }
    if (target.via_key) return ReplaceKeyValue(target.node, target.key_mark, change.value);
    if (IsFlow(parent)) {
      json whole = YamlToJson(parent);
      RETURN_IF_ERROR(SetField(whole, {change.path.back()}, change.value));
      return ReplaceFlow(parent, whole);
    }
    // A block sequence item: replace the item's lines.
    return ReplaceItem(parent, target.node, change.value);
  }

  // The dash of the block sequence item whose content starts at `item_mark`.
  absl::StatusOr<std::pair<size_t, int>> DashOf(const YAML::Mark& item_mark) const {
    const size_t line = static_cast<size_t>(item_mark.line);
    const std::string& text = lines_[line];
    for (int c = std::min<int>(item_mark.column, static_cast<int>(text.size())) - 1; c >= 0; --c) {
      if (text[static_cast<size_t>(c)] == '-') return std::make_pair(line, c);
      if (text[static_cast<size_t>(c)] != ' ') break;
    }
    return absl::InvalidArgumentError(
        absl::StrCat("line ", line + 1, ": cannot find the list item's '-'"));
  }

  absl::Status ReplaceItem(const YAML::Node& /*list*/, const YAML::Node& item, const json& value) {
    ASSIGN_OR_RETURN(auto dash, DashOf(item.Mark()));
    const size_t end = ItemEnd(dash.first, dash.second);
    std::vector<std::string> replacement = EmitBlock("", json::array({value}), dash.second);
    lines_.erase(lines_.begin() + static_cast<long>(dash.first),
                 lines_.begin() + static_cast<long>(end) + 1);
    lines_.insert(lines_.begin() + static_cast<long>(dash.first), replacement.begin(),
                  replacement.end());
    return absl::OkStatus();
  }

  absl::Status Remove(const YAML::Node& root, const std::vector<Step>& steps,
                      const TextChange& change) {
    const size_t i = steps.size() - 1;
    const YAML::Node& parent = ParentOf(root, steps, i);
    // Removing the only entry would leave "key:" (null) where the document means {} or [].
    if (parent.size() == 1 && i > 0 && steps[i - 1].via_key) {
      return ReplaceKeyValue(parent, steps[i - 1].key_mark,
                             parent.IsMap() ? json::object() : json::array());
    }
    if (IsFlow(parent)) {
      json whole = YamlToJson(parent);
      RETURN_IF_ERROR(SetField(whole, {change.path.back()}, nullptr));
      return ReplaceFlow(parent, whole);
    }
    size_t first, last;
    if (steps[i].via_key) {
      first = static_cast<size_t>(steps[i].key_mark.line);
      last = KeyBlockEnd(first, steps[i].key_mark.column);
      // A key on a "- " line is the item's first key: keep the dash for the item's other keys.
      const std::string& text = lines_[first];
      ASSIGN_OR_RETURN(size_t after, AfterColon(steps[i].key_mark));
      (void)after;
      const int col = steps[i].key_mark.column;
      if (col >= 2 && text.compare(static_cast<size_t>(col) - 2, 2, "- ") == 0 &&
          IndentOf(text) < col) {
        // Move the next key of the item up onto the dash line.
        size_t next = last + 1;
        while (next < lines_.size() && !IsContent(lines_[next])) ++next;
        if (next >= lines_.size() || IndentOf(lines_[next]) != col) {
          return absl::InvalidArgumentError("cannot remove the only key of a list item");
        }
        lines_[next] = text.substr(0, static_cast<size_t>(col)) +
                       lines_[next].substr(static_cast<size_t>(col));
      }
    } else {
      ASSIGN_OR_RETURN(auto dash, DashOf(steps[i].node.Mark()));
      first = dash.first;
      last = ItemEnd(dash.first, dash.second);
    }
    lines_.erase(lines_.begin() + static_cast<long>(first),
                 lines_.begin() + static_cast<long>(last) + 1);
    return absl::OkStatus();
  }

  absl::Status Insert(const YAML::Node& root, const std::vector<Step>& steps,
                      const TextChange& change) {
    const size_t k = steps.size();
    const YAML::Node& parent = k == 0 ? root : steps[k - 1].node;
    const FieldPath rest(change.path.begin() + static_cast<long>(k), change.path.end());
    const PathSegment& segment = rest.front();
    if (parent.IsNull() || (parent.IsScalar() && parent.Tag() == "?" && parent.Scalar().empty())) {
      if (k == 0) return absl::InvalidArgumentError("the document is empty");
      json subtree;
      RETURN_IF_ERROR(SetField(subtree, rest, change.value));
      if (!steps[k - 1].via_key) return ReplaceItem(ParentOf(root, steps, k - 1), parent, subtree);
      return ReplaceKeyValue(parent, steps[k - 1].key_mark, subtree);
    }
    if (parent.IsScalar()) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot set ", FormatFieldPath(change.path), ": ",
                       FormatFieldPath(FieldPath(change.path.begin(),
                                                 change.path.begin() + static_cast<long>(k))),
                       " is a scalar"));
    }
    if (IsFlow(parent)) {
      json whole = YamlToJson(parent);
      RETURN_IF_ERROR(SetField(whole, rest, change.value));
      return ReplaceFlow(parent, whole);
    }
    const size_t line = static_cast<size_t>(parent.Mark().line);
    const int col = parent.Mark().column;
    std::vector<std::string> inserted;
    size_t after;
    if (parent.IsMap()) {
      if (segment.kind != PathSegment::Kind::kKey) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot set ", FormatFieldPath(change.path), ": a map has no items"));
      }
      json subtree;
      RETURN_IF_ERROR(SetField(subtree, rest, change.value));
      inserted = EmitBlock(segment.key, subtree[segment.key], col);
      after = MapEnd(line, col);
    } else {
      if (segment.kind != PathSegment::Kind::kSelector) {
        return absl::InvalidArgumentError(absl::StrCat(
            "cannot set ", FormatFieldPath(change.path), ": no list element ",
            FormatFieldPath(
                FieldPath(change.path.begin(), change.path.begin() + static_cast<long>(k) + 1))));
      }
      json list = json::array();
      RETURN_IF_ERROR(SetField(list, rest, change.value));
      inserted = EmitBlock("", list, col);
      after = SeqEnd(line, col);
    }
    lines_.insert(lines_.begin() + static_cast<long>(after) + 1, inserted.begin(), inserted.end());
    return absl::OkStatus();
  }

  std::vector<std::string> lines_;
};

}  // namespace

absl::StatusOr<std::vector<json>> ParseYamlDocuments(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  std::vector<json> docs;
  for (const Range& range : FindDocuments(lines)) {
    std::vector<std::string> doc(lines.begin() + static_cast<long>(range.begin),
                                 lines.begin() + static_cast<long>(range.end));
    absl::StatusOr<YAML::Node> node = Load(doc);
    if (!node.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("document ", docs.size(), " (from line ",
                                                     range.begin + 1,
                                                     "): ", node.status().message()));
    }
    docs.push_back(YamlToJson(*node));
  }
  return docs;
}

absl::StatusOr<std::string> ApplyChangesToYamlText(const std::string& text, int document_index,
                                                   const std::vector<TextChange>& changes) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  const std::vector<Range> docs = FindDocuments(lines);
  if (document_index < 0 || static_cast<size_t>(document_index) >= docs.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "document ", document_index, " does not exist (the file has ", docs.size(), " documents)"));
  }
  const Range range = docs[static_cast<size_t>(document_index)];
  std::vector<std::string> doc(lines.begin() + static_cast<long>(range.begin),
                               lines.begin() + static_cast<long>(range.end));
  ASSIGN_OR_RETURN(YAML::Node original, Load(doc));
  json expected = YamlToJson(original);
  for (const TextChange& change : changes) {
    RETURN_IF_ERROR(SetField(expected, change.path, change.value));
  }
  DocumentEditor editor(std::move(doc));
  for (const TextChange& change : changes) {
    absl::Status applied = editor.Apply(change);
    if (!applied.ok()) {
      return absl::Status(applied.code(), absl::StrCat("cannot edit ", FormatFieldPath(change.path),
                                                       ": ", applied.message()));
    }
  }
  absl::StatusOr<YAML::Node> edited = Load(editor.lines());
  if (!edited.ok() || YamlToJson(*edited) != expected) {
    return absl::InternalError(absl::StrCat(
        "the text edit does not produce the intended document (a bug); got: ",
        edited.ok() ? YamlToJson(*edited).dump() : std::string(edited.status().message()),
        " wanted: ", expected.dump()));
  }
  lines.erase(lines.begin() + static_cast<long>(range.begin),
              lines.begin() + static_cast<long>(range.end));
  lines.insert(lines.begin() + static_cast<long>(range.begin), editor.lines().begin(),
               editor.lines().end());
  return absl::StrJoin(lines, "\n");
}

std::string UnifiedDiff(const std::string& before, const std::string& after,
                        const std::string& path) {
  std::vector<std::string> a = absl::StrSplit(before, '\n');
  std::vector<std::string> b = absl::StrSplit(after, '\n');
  if (!a.empty() && a.back().empty()) a.pop_back();
  if (!b.empty() && b.back().empty()) b.pop_back();
  const size_t n = a.size(), m = b.size();
  // Longest common subsequence table; manifests are small.
  std::vector<std::vector<uint32_t>> lcs(n + 1, std::vector<uint32_t>(m + 1, 0));
  for (size_t i = n; i-- > 0;) {
    for (size_t j = m; j-- > 0;) {
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  struct Op {
    char kind;
    size_t ai, bi;
  };
  std::vector<Op> ops;
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] == b[j]) {
      ops.push_back({' ', i++, j++});
    } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
      ops.push_back({'-', i++, j});
    } else {
      ops.push_back({'+', i, j++});
    }
  }
  std::string out;
  constexpr size_t kContext = 3;
  size_t k = 0;
  bool header = false;
  while (k < ops.size()) {
    if (ops[k].kind == ' ') {
      ++k;
      continue;
    }
    size_t start = k >= kContext ? k - kContext : 0;
    size_t end = k;
    // Extend the hunk while changes are within 2 * context of each other.
    while (end < ops.size()) {
      if (ops[end].kind != ' ') {
        ++end;
        continue;
      }
      size_t run = end;
      while (run < ops.size() && ops[run].kind == ' ') ++run;
      if (run == ops.size() || run - end > 2 * kContext) {
        end = std::min(ops.size(), end + kContext);
        break;
      }
      end = run;
    }
    size_t a_start = ops[start].ai, b_start = ops[start].bi, a_count = 0, b_count = 0;
    std::string body;
    for (size_t x = start; x < end; ++x) {
      const Op& op = ops[x];
      if (op.kind != '+') ++a_count;
      if (op.kind != '-') ++b_count;
      body += op.kind;
      body += op.kind == '+' ? b[op.bi] : a[op.ai];
      body += '\n';
    }
    if (!header) {
      absl::StrAppend(&out, "--- a/", path, "\n+++ b/", path, "\n");
      header = true;
    }
    absl::StrAppend(&out, "@@ -", a_count == 0 ? a_start : a_start + 1, ",", a_count, " +",
                    b_count == 0 ? b_start : b_start + 1, ",", b_count, " @@\n", body);
    k = end;
  }
  return out;
}

}  // namespace remediator::manifest
