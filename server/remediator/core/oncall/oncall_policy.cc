#include "server/remediator/core/oncall/oncall_policy.h"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/common/file_util.h"
#include "server/common/phone_number.h"
#include "server/common/status_macros.h"
#include "server/common/yaml_config.h"

namespace remediator::oncall {
namespace {

int MinuteOfDay(absl::Time now, absl::TimeZone zone) {
  const absl::CivilSecond civil = absl::ToCivilSecond(now, zone);
  return civil.hour() * 60 + civil.minute();
}

bool InWindow(int minute, int start, int end) {
  if (start <= end) return minute >= start && minute < end;
  return minute >= start || minute < end;  // wraps midnight
}

absl::StatusOr<int> ParseClock(const YamlDocument& doc, const YAML::Node& map, const char* key,
                               int fallback) {
  std::string text;
  RETURN_IF_ERROR(ReadString(doc, map, key, &text));
  if (text.empty()) return fallback;
  int hours = 0, minutes = 0;
  if (text.size() != 5 || text[2] != ':' || !absl::ascii_isdigit(text[0]) ||
      !absl::ascii_isdigit(text[1]) || !absl::ascii_isdigit(text[3]) ||
      !absl::ascii_isdigit(text[4])) {
    return YamlError(doc, map[key], key, absl::StrCat("wants HH:MM, got \"", text, "\""));
  }
  hours = (text[0] - '0') * 10 + (text[1] - '0');
  minutes = (text[3] - '0') * 10 + (text[4] - '0');
  if (hours > 24 || minutes > 59 || (hours == 24 && minutes != 0)) {
    return YamlError(doc, map[key], key, absl::StrCat("\"", text, "\" is not a time of day"));
  }
  return hours * 60 + minutes;
}

}  // namespace

int SeverityRank(const std::string& severity) {
  if (severity == "low") return 0;
  if (severity == "critical") return 2;
  return 1;
}

const Rotation* OnCallPolicy::OnDuty(absl::Time now) const {
  const absl::CivilSecond civil = absl::ToCivilSecond(now, timezone);
  const int weekday = static_cast<int>(absl::GetWeekday(absl::CivilDay(civil)));
  // absl::Weekday: monday = 0 ... sunday = 6; the policy counts Sunday as 0.
  const int day = (weekday + 1) % 7;
  const int minute = MinuteOfDay(now, timezone);
  for (const Rotation& r : rotations) {
    const bool today =
        r.days.empty() || std::find(r.days.begin(), r.days.end(), day) != r.days.end();
    if (today && InWindow(minute, r.start_minute, r.end_minute)) return &r;
  }
  return nullptr;
}

const Person* OnCallPolicy::Find(const std::string& name) const {
  for (const Person& p : people) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

bool OnCallPolicy::Quiet(absl::Time now) const {
  if (!quiet_hours) return false;
  return InWindow(MinuteOfDay(now, timezone), quiet_hours->first, quiet_hours->second);
}

absl::StatusOr<OnCallPolicy> ParseOnCallPolicy(const std::string& yaml, const std::string& name) {
  ASSIGN_OR_RETURN(YamlDocument doc, ParseYaml(yaml, name));
  const YAML::Node& root = doc.root;
  RETURN_IF_ERROR(CheckKnownKeys(doc, root,
                                 {"timezone", "people", "rotations", "escalation", "quiet_hours"},
                                 "the on-call policy"));
  OnCallPolicy policy;
  RETURN_IF_ERROR(ReadString(doc, root, "timezone", &policy.timezone_name));
  if (!absl::LoadTimeZone(policy.timezone_name, &policy.timezone)) {
    return YamlError(doc, root["timezone"], "timezone",
                     absl::StrCat("unknown time zone \"", policy.timezone_name, "\""));
  }
  const YAML::Node people = root["people"];
  if (!people || !people.IsSequence() || people.size() == 0) {
    return YamlError(doc, people ? people : root, "people", "wants a list of {name, number}");
  }
  for (const auto& p : people) {
    RETURN_IF_ERROR(CheckKnownKeys(doc, p, {"name", "number"}, "people[]"));
    Person person;
    RETURN_IF_ERROR(ReadString(doc, p, "name", &person.name));
    RETURN_IF_ERROR(ReadString(doc, p, "number", &person.number));
    if (person.name.empty()) return YamlError(doc, p, "name", "every person needs a name");
    absl::Status valid = ValidatePhoneNumber(person.number);
    if (!valid.ok()) return YamlError(doc, p["number"], "number", std::string(valid.message()));
    policy.people.push_back(std::move(person));
  }
  static const std::map<std::string, int> kDays = {{"sun", 0}, {"mon", 1}, {"tue", 2}, {"wed", 3},
                                                   {"thu", 4}, {"fri", 5}, {"sat", 6}};
  const YAML::Node rotations = root["rotations"];
  if (!rotations || !rotations.IsSequence() || rotations.size() == 0) {
    return YamlError(doc, rotations ? rotations : root, "rotations",
                     "wants a list of rotations with people");
  }
  for (const auto& r : rotations) {
    RETURN_IF_ERROR(
        CheckKnownKeys(doc, r, {"name", "people", "days", "start", "end"}, "rotations[]"));
    Rotation rotation;
    RETURN_IF_ERROR(ReadString(doc, r, "name", &rotation.name));
    RETURN_IF_ERROR(ReadStringList(doc, r, "people", &rotation.people));
    if (rotation.people.empty()) return YamlError(doc, r, "people", "a rotation needs people");
    for (const std::string& member : rotation.people) {
      if (policy.Find(member) == nullptr) {
        return YamlError(doc, r["people"], "people",
                         absl::StrCat("\"", member, "\" is not in the people list"));
      }
    }
    std::vector<std::string> days;
    RETURN_IF_ERROR(ReadStringList(doc, r, "days", &days));
    for (const std::string& d : days) {
      auto it = kDays.find(absl::AsciiStrToLower(d).substr(0, 3));
      if (it == kDays.end()) {
        return YamlError(doc, r["days"], "days", absl::StrCat("\"", d, "\" is not a day"));
      }
      rotation.days.push_back(it->second);
    }
    ASSIGN_OR_RETURN(rotation.start_minute, ParseClock(doc, r, "start", 0));
    ASSIGN_OR_RETURN(rotation.end_minute, ParseClock(doc, r, "end", 24 * 60));
    policy.rotations.push_back(std::move(rotation));
  }
  if (const YAML::Node e = root["escalation"]; e) {
    RETURN_IF_ERROR(
        CheckKnownKeys(doc, e, {"delay", "max_calls_per_incident", "max_calls_per_person_per_hour"},
                       "escalation"));
    RETURN_IF_ERROR(ReadDuration(doc, e, "delay", &policy.escalation_delay));
    RETURN_IF_ERROR(ReadInt(doc, e, "max_calls_per_incident", &policy.max_calls_per_incident));
    RETURN_IF_ERROR(
        ReadInt(doc, e, "max_calls_per_person_per_hour", &policy.max_calls_per_person_per_hour));
  }
  if (const YAML::Node q = root["quiet_hours"]; q) {
    RETURN_IF_ERROR(CheckKnownKeys(doc, q, {"start", "end", "min_severity"}, "quiet_hours"));
    ASSIGN_OR_RETURN(int start, ParseClock(doc, q, "start", 22 * 60));
    ASSIGN_OR_RETURN(int end, ParseClock(doc, q, "end", 7 * 60));
    policy.quiet_hours = std::make_pair(start, end);
    RETURN_IF_ERROR(ReadString(doc, q, "min_severity", &policy.quiet_min_severity));
  }
  return policy;
}

absl::StatusOr<OnCallPolicy> LoadOnCallPolicy(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseOnCallPolicy(text, path);
}

}  // namespace remediator::oncall
