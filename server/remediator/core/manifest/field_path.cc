#include "server/remediator/core/manifest/field_path.h"

#include <charconv>

#include "absl/strings/str_cat.h"

namespace remediator::manifest {
namespace {

using nlohmann::json;

// The keys strategic merge patch uses to match list elements, in the order we try them.
constexpr const char* kMergeKeys[] = {"name", "containerPort", "mountPath", "devicePath", "ip"};

bool NeedsQuotes(const std::string& key) {
  return key.empty() || key.find_first_of(".[]\"= ") != std::string::npos;
}

std::string ValueText(const json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

// Finds the list element selected by `segment` (an index or key=value).
json* FindElement(json& list, const PathSegment& segment) {
  if (!list.is_array()) return nullptr;
  if (segment.kind == PathSegment::Kind::kIndex) {
    return segment.index < list.size() ? &list[segment.index] : nullptr;
  }
  for (json& element : list) {
    if (element.is_object() && element.contains(segment.key) &&
        ValueText(element[segment.key]) == segment.value) {
      return &element;
    }
  }
  return nullptr;
}

// The merge key shared by every element of `list`, or "" when there is none.
std::string MergeKeyOf(const json& list) {
  if (!list.is_array() || list.empty()) return "";
  for (const char* key : kMergeKeys) {
    bool all = true;
    for (const json& element : list) {
      all = all && element.is_object() && element.contains(key) &&
            (element[key].is_string() || element[key].is_number());
    }
    if (all) return key;
  }
  return "";
}

void DiffInto(const json& before, const json& after, FieldPath& path,
              std::vector<LeafChange>& out) {
  if (before == after) return;
  if (before.is_object() && after.is_object()) {
    for (auto it = before.begin(); it != before.end(); ++it) {
      path.push_back({PathSegment::Kind::kKey, it.key(), "", 0});
      DiffInto(it.value(), after.contains(it.key()) ? after[it.key()] : json(), path, out);
      path.pop_back();
    }
    for (auto it = after.begin(); it != after.end(); ++it) {
      if (before.contains(it.key())) continue;
      path.push_back({PathSegment::Kind::kKey, it.key(), "", 0});
      DiffInto(json(), it.value(), path, out);
      path.pop_back();
    }
    return;
  }
  if (before.is_object() && after.is_null()) {
    for (auto it = before.begin(); it != before.end(); ++it) {
      path.push_back({PathSegment::Kind::kKey, it.key(), "", 0});
      DiffInto(it.value(), json(), path, out);
      path.pop_back();
    }
    return;
  }
  if (before.is_null() && after.is_object() && !after.empty()) {
    for (auto it = after.begin(); it != after.end(); ++it) {
      path.push_back({PathSegment::Kind::kKey, it.key(), "", 0});
      DiffInto(json(), it.value(), path, out);
      path.pop_back();
    }
    return;
  }
  // A keyed list added or removed whole is reported element by element, like a map.
  if (before.is_null() && after.is_array() && !MergeKeyOf(after).empty()) {
    DiffInto(json::array(), after, path, out);
    return;
  }
  if (after.is_null() && before.is_array() && !MergeKeyOf(before).empty()) {
    DiffInto(before, json::array(), path, out);
    return;
  }
  if (before.is_array() && after.is_array()) {
    const std::string key = before.empty() ? MergeKeyOf(after) : MergeKeyOf(before);
    if (!key.empty() && (before.empty() || key == MergeKeyOf(before)) &&
        (after.empty() || key == MergeKeyOf(after))) {
      auto element_path = [&](const json& element) {
        return PathSegment{PathSegment::Kind::kSelector, key, ValueText(element[key]), 0};
      };
      for (const json& b : before) {
        path.push_back(element_path(b));
        json a_copy = after;
        json* a = FindElement(a_copy, path.back());
        DiffInto(b, a != nullptr ? *a : json(), path, out);
        path.pop_back();
      }
      for (const json& a : after) {
        path.push_back(element_path(a));
        json b_copy = before;
        if (FindElement(b_copy, path.back()) == nullptr) DiffInto(json(), a, path, out);
        path.pop_back();
      }
      return;
    }
  }
  out.push_back(LeafChange{path, before, after});
}

}  // namespace

absl::StatusOr<FieldPath> ParseFieldPath(const std::string& text) {
  FieldPath path;
  size_t i = 0;
  auto error = [&](const std::string& what) {
    return absl::InvalidArgumentError(
        absl::StrCat("field path \"", text, "\" at position ", i, ": ", what));
  };
  if (text.empty()) return absl::InvalidArgumentError("field path is empty");
  bool expect_key = true;
  while (i < text.size()) {
    char c = text[i];
    if (c == '.') {
      if (expect_key) return error("empty key");
      ++i;
      expect_key = true;
      continue;
    }
    if (c == '[') {
      size_t close = text.find(']', i);
      if (close == std::string::npos) return error("unclosed [");
      std::string inner = text.substr(i + 1, close - i - 1);
      if (inner.size() >= 2 && inner.front() == '"' && inner.back() == '"') {
        path.push_back({PathSegment::Kind::kKey, inner.substr(1, inner.size() - 2), "", 0});
      } else if (size_t eq = inner.find('='); eq != std::string::npos) {
        std::string key = inner.substr(0, eq), value = inner.substr(eq + 1);
        if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
            value.back() == value.front()) {
          value = value.substr(1, value.size() - 2);
        }
        if (key.empty()) return error("empty selector key");
        path.push_back({PathSegment::Kind::kSelector, key, value, 0});
      } else {
        size_t index = 0;
        auto [end, ec] = std::from_chars(inner.data(), inner.data() + inner.size(), index);
        if (inner.empty() || ec != std::errc() || end != inner.data() + inner.size()) {
          return error("\"" + inner + "\" is neither an index nor key=value");
        }
        path.push_back({PathSegment::Kind::kIndex, "", "", index});
      }
      i = close + 1;
      expect_key = false;
      continue;
    }
    if (!expect_key) return error("expected '.' or '['");
    size_t end = text.find_first_of(".[", i);
    if (end == std::string::npos) end = text.size();
    path.push_back({PathSegment::Kind::kKey, text.substr(i, end - i), "", 0});
    i = end;
    expect_key = false;
  }
  if (expect_key) return error("path ends with '.'");
  return path;
}

std::string FormatFieldPath(const FieldPath& path) {
  std::string out;
  for (const PathSegment& s : path) {
    switch (s.kind) {
      case PathSegment::Kind::kKey:
        if (NeedsQuotes(s.key)) {
          absl::StrAppend(&out, "[\"", s.key, "\"]");
        } else {
          absl::StrAppend(&out, out.empty() ? "" : ".", s.key);
        }
        break;
      case PathSegment::Kind::kIndex:
        absl::StrAppend(&out, "[", s.index, "]");
        break;
      case PathSegment::Kind::kSelector:
        absl::StrAppend(&out, "[", s.key, "=", s.value, "]");
        break;
    }
  }
  return out;
}

const json* FindField(const json& doc, const FieldPath& path) {
  const json* node = &doc;
  for (const PathSegment& s : path) {
    if (s.kind == PathSegment::Kind::kKey) {
      if (!node->is_object() || !node->contains(s.key)) return nullptr;
      node = &(*node)[s.key];
    } else {
      node = FindElement(const_cast<json&>(*node), s);
      if (node == nullptr) return nullptr;
    }
  }
  return node;
}

absl::Status SetField(json& doc, const FieldPath& path, const json& value, bool null_removes) {
  if (path.empty()) return absl::InvalidArgumentError("cannot set an empty path");
  if (value.is_null() && !null_removes) {
    // Build the containers as for a real value, then store the null.
    absl::Status made = SetField(doc, path, json::object(), true);
    if (!made.ok()) return made;
    json* leaf = const_cast<json*>(FindField(doc, path));
    if (leaf != nullptr) *leaf = nullptr;
    return absl::OkStatus();
  }
  json* node = &doc;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    const PathSegment& s = path[i];
    if (s.kind == PathSegment::Kind::kKey) {
      if (node->is_null()) *node = json::object();
      if (!node->is_object()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "cannot set ", FormatFieldPath(path), ": ",
            FormatFieldPath(FieldPath(path.begin(), path.begin() + i)), " is not a map"));
      }
      if (value.is_null() && !node->contains(s.key)) return absl::OkStatus();
      node = &(*node)[s.key];
      continue;
    }
    if (node->is_null()) *node = json::array();
    json* element = FindElement(*node, s);
    if (element == nullptr) {
      if (value.is_null()) return absl::OkStatus();
      if (s.kind == PathSegment::Kind::kIndex || !node->is_array()) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot set ", FormatFieldPath(path), ": no element ",
                         FormatFieldPath(FieldPath(path.begin(), path.begin() + i + 1))));
      }
      node->push_back(json{{s.key, s.value}});
      element = &node->back();
    }
    node = element;
  }
  const PathSegment& last = path.back();
  if (last.kind == PathSegment::Kind::kKey) {
    if (node->is_null()) *node = json::object();
    if (!node->is_object()) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot set ", FormatFieldPath(path), ": its parent is not a map"));
    }
    if (value.is_null()) {
      node->erase(last.key);
    } else {
      (*node)[last.key] = value;
    }
    return absl::OkStatus();
  }
  if (node->is_null() && last.kind == PathSegment::Kind::kSelector) *node = json::array();
  if (!node->is_array()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot set ", FormatFieldPath(path), ": its parent is not a list"));
  }
  json* element = FindElement(*node, last);
  if (value.is_null()) {
    if (element != nullptr) node->erase(node->begin() + (element - &(*node)[0]));
    return absl::OkStatus();
  }
  if (element != nullptr) {
    *element = value;
  } else if (last.kind == PathSegment::Kind::kSelector) {
    node->push_back(value);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot set ", FormatFieldPath(path), ": index past the end"));
  }
  return absl::OkStatus();
}

std::vector<LeafChange> DiffDocuments(const json& before, const json& after) {
  std::vector<LeafChange> out;
  FieldPath path;
  DiffInto(before, after, path, out);
  return out;
}

}  // namespace remediator::manifest
