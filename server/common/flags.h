// Command-line flags for every binary, with one vocabulary (../../design.md §7):
//   --name=value, --name value, --bool-flag, --no-bool-flag, -x value for declared short names,
//   `--` ends the flags. --help prints every flag with its help text.
// Each flag records whether it was given, so a YAML config file can fill in the rest
// ("flags override the file"). Single-threaded: parse once in main().
#ifndef REMEDIATOR_SERVER_COMMON_FLAGS_H_
#define REMEDIATOR_SERVER_COMMON_FLAGS_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace remediator {

class FlagSet {
 public:
  // `program` and `summary` head the --help text.
  FlagSet(std::string program, std::string summary);

  // Declares a flag bound to `*target`, whose current value is the default shown by --help.
  // `short_name` (e.g. 'o') is optional. Targets must outlive Parse().
  void String(const std::string& name, std::string* target, const std::string& help,
              char short_name = 0);
  void Int(const std::string& name, int* target, const std::string& help, char short_name = 0);
  void Double(const std::string& name, double* target, const std::string& help);
  void Bool(const std::string& name, bool* target, const std::string& help);
  // A flag that may be given many times; each value is appended.
  void Repeated(const std::string& name, std::vector<std::string>* target, const std::string& help,
                char short_name = 0);

  // Parses argv. Returns InvalidArgument naming the flag for an unknown flag, a missing value or
  // a value of the wrong type. Sets help_requested() for --help/-h (and parses nothing more).
  // Positional arguments are collected in positional().
  absl::Status Parse(int argc, const char* const* argv);

  bool help_requested() const { return help_requested_; }
  // True when `name` was given on the command line.
  bool IsSet(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }
  // The --help text: usage line, summary and every flag with its default.
  std::string Usage() const;
  // Text appended after the flag list in Usage() (commands, examples, exit codes).
  void set_epilogue(std::string epilogue) { epilogue_ = std::move(epilogue); }

  // When true, the first positional argument stops flag parsing (for "tool [flags] COMMAND
  // [command flags]"); the rest is left in positional().
  void set_stop_at_first_positional(bool stop) { stop_at_first_positional_ = stop; }

 private:
  enum class Kind { kString, kInt, kDouble, kBool, kRepeated };
  struct Flag {
    std::string name;
    char short_name = 0;
    Kind kind;
    void* target;
    std::string help;
    std::string default_text;
    bool set = false;
  };
  void Add(Flag flag);
  absl::Status Assign(Flag& flag, const std::string& value);

  std::string program_;
  std::string summary_;
  std::string epilogue_;
  std::vector<std::unique_ptr<Flag>> flags_;
  std::map<std::string, Flag*> by_name_;
  std::map<char, Flag*> by_short_;
  std::vector<std::string> positional_;
  bool help_requested_ = false;
  bool stop_at_first_positional_ = false;
};

// Process exit codes shared by every binary (design.md §7).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_COMMON_FLAGS_H_
