// The on-call policy: who is phoned about an incident, in which order, when, and how often.
//
//   timezone: Europe/Paris              # for rotation hours and quiet hours (default UTC)
//   people:
//   - {name: alice, number: "+33612345678"}
//   - {name: bob, number: "sip:bob@127.0.0.1:5070"}
//   rotations:                          # the first whose hours include now is on duty
//   - name: business-hours
//     people: [alice, bob]              # the escalation chain, in order
//     days: [mon, tue, wed, thu, fri]   # default: every day
//     start: "08:00"                    # default 00:00
//     end: "19:00"                      # default 24:00
//   - name: nights
//     people: [bob, alice]
//   escalation:
//     delay: 5m                         # before calling the next person
//     max_calls_per_incident: 3
//     max_calls_per_person_per_hour: 4
//   quiet_hours:                        # only incidents at least this severe ring then
//     start: "22:00"
//     end: "07:00"
//     min_severity: critical            # low < high < critical
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CORE_ONCALL_ONCALL_POLICY_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CORE_ONCALL_ONCALL_POLICY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace remediator::oncall {

struct Person {
  std::string name;
  std::string number;
};

struct Rotation {
  std::string name;
  std::vector<std::string> people;  // names, in escalation order
  std::vector<int> days;            // 0 = Sunday ... 6 = Saturday; empty = every day
  int start_minute = 0;             // minutes after midnight, local time
  int end_minute = 24 * 60;
};

struct OnCallPolicy {
  absl::TimeZone timezone = absl::UTCTimeZone();
  std::string timezone_name = "UTC";
  std::vector<Person> people;
  std::vector<Rotation> rotations;
  absl::Duration escalation_delay = absl::Minutes(5);
  int max_calls_per_incident = 3;
  int max_calls_per_person_per_hour = 4;
  std::optional<std::pair<int, int>> quiet_hours;  // start, end minutes (may wrap midnight)
  std::string quiet_min_severity = "critical";

  // The rotation on duty at `now`, or null when none is.
  const Rotation* OnDuty(absl::Time now) const;
  // The person named `name`, or null.
  const Person* Find(const std::string& name) const;
  // True when `now` is inside the quiet hours.
  bool Quiet(absl::Time now) const;
};

// Parses the YAML text (`name` is used in errors: file, line and key). Every number must be
// E.164 or a SIP URI, every rotation member a declared person, times HH:MM.
absl::StatusOr<OnCallPolicy> ParseOnCallPolicy(const std::string& yaml, const std::string& name);
absl::StatusOr<OnCallPolicy> LoadOnCallPolicy(const std::string& path);

// "low" < "high" < "critical"; unknown severities rank as "high".
int SeverityRank(const std::string& severity);

}  // namespace remediator::oncall

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CORE_ONCALL_ONCALL_POLICY_H_
