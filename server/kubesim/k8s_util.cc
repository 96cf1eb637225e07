#include "server/kubesim/k8s_util.h"

#include <cmath>
#include <cstdio>
#include <random>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"

namespace remediator::kubesim {
namespace {

std::mt19937_64& Rng() {
  static std::mt19937_64* rng = new std::mt19937_64(std::random_device{}());
  return *rng;
}
absl::Mutex rng_mu;

std::string Trim(absl::string_view s) { return std::string(absl::StripAsciiWhitespace(s)); }

}  // namespace

absl::StatusOr<int64_t> ParseQuantity(const std::string& text) {
  std::string s = Trim(text);
  if (s.empty()) return absl::InvalidArgumentError("empty quantity");
  size_t pos = 0;
  while (pos < s.size() &&
         (absl::ascii_isdigit(s[pos]) || s[pos] == '.' || s[pos] == '+' || s[pos] == '-')) {
    ++pos;
  }
  double number = 0;
  if (!absl::SimpleAtod(s.substr(0, pos), &number)) {
    return absl::InvalidArgumentError(absl::StrCat("quantity \"", s, "\" is not a number"));
  }
  std::string suffix = s.substr(pos);
  double mult = 1;
  if (suffix.empty()) {
    mult = 1;
  } else if (suffix == "Ki") {
    mult = 1024.0;
  } else if (suffix == "Mi") {
    mult = 1024.0 * 1024;
  } else if (suffix == "Gi") {
    mult = 1024.0 * 1024 * 1024;
  } else if (suffix == "Ti") {
    mult = 1024.0 * 1024 * 1024 * 1024;
  } else if (suffix == "k") {
    mult = 1e3;
  } else if (suffix == "M") {
    mult = 1e6;
  } else if (suffix == "G") {
    mult = 1e9;
  } else if (suffix == "T") {
    mult = 1e12;
  } else if (suffix == "m") {
    mult = 1e-3;
  } else if (suffix[0] == 'e' || suffix[0] == 'E') {
    int exp = 0;
    if (!absl::SimpleAtoi(suffix.substr(1), &exp)) {
      return absl::InvalidArgumentError(absl::StrCat("quantity \"", s, "\" has a bad exponent"));
    }
    mult = std::pow(10.0, exp);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("quantity \"", s, "\" has an unknown suffix \"", suffix, "\""));
  }
  return static_cast<int64_t>(std::ceil(number * mult));
}

absl::StatusOr<int64_t> ParseCpuMillis(const std::string& text) {
  std::string s = Trim(text);
  if (!s.empty() && s.back() == 'm') {
    int64_t v = 0;
    if (!absl::SimpleAtoi(s.substr(0, s.size() - 1), &v)) {
      return absl::InvalidArgumentError(absl::StrCat("cpu quantity \"", s, "\" is invalid"));
    }
    return v;
  }
  double cores = 0;
  if (!absl::SimpleAtod(s, &cores)) {
    return absl::InvalidArgumentError(absl::StrCat("cpu quantity \"", s, "\" is invalid"));
  }
  return static_cast<int64_t>(std::llround(cores * 1000));
}

int64_t QuantityOr(const json& value, int64_t fallback) {
  if (value.is_number()) return value.get<int64_t>();
  if (!value.is_string()) return fallback;
  auto q = ParseQuantity(value.get<std::string>());
  return q.ok() ? *q : fallback;
}

std::string FormatBytes(int64_t bytes) {
  if (bytes % (1024 * 1024) == 0) return absl::StrCat(bytes / (1024 * 1024), "Mi");
  if (bytes % 1024 == 0) return absl::StrCat(bytes / 1024, "Ki");
  return absl::StrCat(bytes);
}

std::string HumanDuration(absl::Duration d) {
  int64_t seconds = absl::ToInt64Seconds(d);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return absl::StrCat(seconds, "s");
  int64_t minutes = seconds / 60;
  if (minutes < 10) {
    int64_t s = seconds % 60;
    return s == 0 ? absl::StrCat(minutes, "m") : absl::StrCat(minutes, "m", s, "s");
  }
  if (minutes < 180) return absl::StrCat(minutes, "m");
  int64_t hours = minutes / 60;
  if (hours < 8) {
    int64_t m = minutes % 60;
    return m == 0 ? absl::StrCat(hours, "h") : absl::StrCat(hours, "h", m, "m");
  }
  if (hours < 48) return absl::StrCat(hours, "h");
  if (hours < 24 * 8) {
    int64_t h = hours % 24;
    return h == 0 ? absl::StrCat(hours / 24, "d") : absl::StrCat(hours / 24, "d", h, "h");
  }
  if (hours < 24 * 365 * 2) return absl::StrCat(hours / 24, "d");
  return absl::StrCat(hours / 24 / 365, "y");
}

std::string GoDuration(absl::Duration d) {
  int64_t s = absl::ToInt64Seconds(d);
  if (s < 60) return absl::StrCat(s, "s");
  if (s < 3600) return absl::StrCat(s / 60, "m", s % 60, "s");
  return absl::StrCat(s / 3600, "h", (s % 3600) / 60, "m", s % 60, "s");
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

std::string Rfc3339Micro(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

absl::Time ParseRfc3339(const std::string& text, absl::Time fallback) {
  absl::Time t;
  std::string err;
  if (absl::ParseTime(absl::RFC3339_full, text, &t, &err)) return t;
  return fallback;
}

absl::StatusOr<LabelSelector> LabelSelector::Parse(const std::string& text) {
  LabelSelector sel;
  // Split on commas that are not inside parentheses.
  std::vector<std::string> parts;
  std::string cur;
  int depth = 0;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(cur);
  for (std::string part : parts) {
    part = Trim(part);
    if (part.empty()) continue;
    Term term;
    size_t in_pos = part.find(" in ");
    size_t notin_pos = part.find(" notin ");
    if (notin_pos != std::string::npos || in_pos != std::string::npos) {
      bool notin = notin_pos != std::string::npos;
      size_t p = notin ? notin_pos : in_pos;
      term.key = Trim(part.substr(0, p));
      std::string rest = Trim(part.substr(p + (notin ? 7 : 4)));
      if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')') {
        return absl::InvalidArgumentError(
            absl::StrCat("unable to parse requirement: \"", part, "\": values need parentheses"));
      }
      for (absl::string_view v : absl::StrSplit(rest.substr(1, rest.size() - 2), ',')) {
        term.values.push_back(Trim(v));
      }
      term.op = notin ? Term::kNotIn : Term::kIn;
    } else if (size_t p = part.find("!="); p != std::string::npos) {
      term.op = Term::kNotEq;
      term.key = Trim(part.substr(0, p));
      term.values.push_back(Trim(part.substr(p + 2)));
    } else if (size_t p2 = part.find("=="); p2 != std::string::npos) {
      term.op = Term::kEq;
      term.key = Trim(part.substr(0, p2));
      term.values.push_back(Trim(part.substr(p2 + 2)));
    } else if (size_t p3 = part.find('='); p3 != std::string::npos) {
      term.op = Term::kEq;
      term.key = Trim(part.substr(0, p3));
      term.values.push_back(Trim(part.substr(p3 + 1)));
    } else if (part[0] == '!') {
      term.op = Term::kNotExists;
      term.key = Trim(part.substr(1));
    } else {
      term.op = Term::kExists;
      term.key = part;
    }
    if (term.key.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unable to parse requirement: \"", part, "\": empty key"));
    }
    sel.terms_.push_back(std::move(term));
  }
  return sel;
}

LabelSelector LabelSelector::FromJson(const json& selector) {
  LabelSelector sel;
  if (!selector.is_object()) return sel;
  if (auto it = selector.find("matchLabels"); it != selector.end() && it->is_object()) {
    for (auto& [k, v] : it->items()) {
      sel.terms_.push_back({Term::kEq, k, {v.is_string() ? v.get<std::string>() : v.dump()}});
    }
  }
  if (auto it = selector.find("matchExpressions"); it != selector.end() && it->is_array()) {
    for (const json& e : *it) {
      Term t;
      t.key = e.value("key", "");
      std::string op = e.value("operator", "");
      if (op == "In")
        t.op = Term::kIn;
      else if (op == "NotIn")
        t.op = Term::kNotIn;
      else if (op == "Exists")
        t.op = Term::kExists;
      else
        t.op = Term::kNotExists;
      if (e.contains("values") && e["values"].is_array()) {
        for (const json& v : e["values"]) t.values.push_back(v.get<std::string>());
      }
      sel.terms_.push_back(std::move(t));
    }
  }
  return sel;
}

bool LabelSelector::Matches(const json& labels) const {
  for (const Term& t : terms_) {
    bool has = labels.is_object() && labels.contains(t.key);
    std::string value = has && labels[t.key].is_string() ? labels[t.key].get<std::string>() : "";
    switch (t.op) {
      case Term::kEq:
        if (!has || value != t.values[0]) return false;
        break;
      case Term::kNotEq:
        if (has && value == t.values[0]) return false;
        break;
      case Term::kIn: {
        if (!has) return false;
        bool found = false;
        for (const auto& v : t.values) found = found || v == value;
        if (!found) return false;
        break;
      }
      case Term::kNotIn: {
        if (!has) break;
        for (const auto& v : t.values) {
          if (v == value) return false;
        }
        break;
      }
      case Term::kExists:
        if (!has) return false;
        break;
      case Term::kNotExists:
        if (has) return false;
        break;
    }
  }
  return true;
}

absl::StatusOr<FieldSelector> FieldSelector::Parse(const std::string& text) {
  FieldSelector sel;
  for (absl::string_view raw : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    std::string part = Trim(raw);
    Term t;
    if (size_t p = part.find("!="); p != std::string::npos) {
      t = {Trim(part.substr(0, p)), Trim(part.substr(p + 2)), true};
    } else if (size_t p2 = part.find("=="); p2 != std::string::npos) {
      t = {Trim(part.substr(0, p2)), Trim(part.substr(p2 + 2)), false};
    } else if (size_t p3 = part.find('='); p3 != std::string::npos) {
      t = {Trim(part.substr(0, p3)), Trim(part.substr(p3 + 1)), false};
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid selector: '", part, "'; can't understand '", part, "'"));
    }
    sel.terms_.push_back(std::move(t));
  }
  return sel;
}

std::string StringAtPath(const json& object, const std::string& dotted) {
  const json* cur = &object;
  for (absl::string_view key : absl::StrSplit(dotted, '.')) {
    if (!cur->is_object()) return "";
    auto it = cur->find(std::string(key));
    if (it == cur->end()) return "";
    cur = &*it;
  }
  if (cur->is_string()) return cur->get<std::string>();
  if (cur->is_null()) return "";
  return cur->dump();
}

bool FieldSelector::Matches(const json& object) const {
  for (const Term& t : terms_) {
    bool eq = StringAtPath(object, t.path) == t.value;
    if (eq == t.negate) return false;
  }
  return true;
}

std::string RandomSuffix(int length) {
  static const char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  absl::MutexLock lock(&rng_mu);
  std::string out;
  for (int i = 0; i < length; ++i) out += kAlphabet[Rng()() % 27];
  return out;
}

std::string RandomUuid() {
  uint64_t a, b;
  {
    absl::MutexLock lock(&rng_mu);
    a = Rng()();
    b = Rng()();
  }
  a = (a & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  b = (b & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xffff),
                static_cast<unsigned>(b >> 48),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

std::string SafeEncodeHash(uint32_t hash) {
  static const char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::string digits = std::to_string(hash);
  std::string out;
  for (char c : digits) out += kAlphabet[(c - '0') % 27];
  // Spread the digits over the whole alphabet like k8s' rand.SafeEncodeString of the decimal.
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = kAlphabet[(static_cast<unsigned>(digits[i]) * 7 + i * 3 + (hash >> (i % 24))) % 27];
  }
  return out;
}

uint32_t Fnv32a(const std::string& data) {
  uint32_t h = 2166136261u;
  for (unsigned char c : data) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

json Normalize(const json& value) {
  if (value.is_object()) {
    json out = json::object();
    for (auto& [k, v] : value.items()) {
      if (v.is_null()) continue;
      json n = Normalize(v);
      if (n.is_object() && n.empty()) continue;
      out[k] = std::move(n);
    }
    return out;
  }
  if (value.is_array()) {
    json out = json::array();
    for (const json& v : value) out.push_back(Normalize(v));
    return out;
  }
  return value;
}

}  // namespace remediator::kubesim
