// Output helpers for remediatorctl: aligned tables for people, JSON for scripts.
#ifndef REMEDIATOR_CLIENTS_CLI_OUTPUT_H_
#define REMEDIATOR_CLIENTS_CLI_OUTPUT_H_

#include <google/protobuf/message.h>

#include <ostream>
#include <string>
#include <vector>

namespace remediator::cli {

enum class OutputFormat { kTable, kJson };

// Prints `rows` under `headers`, each column as wide as its widest cell. Newlines and tabs in
// cells are shown as spaces so that a row stays on one line.
void PrintTable(std::ostream& out, const std::vector<std::string>& headers,
                const std::vector<std::vector<std::string>>& rows);

// The message as one line of JSON with the proto field names and default values included.
std::string ToJson(const google::protobuf::Message& message);

// "key: value" lines for one record, for `incident ID`-style commands in table mode.
void PrintFields(std::ostream& out, const std::vector<std::pair<std::string, std::string>>& fields);

}  // namespace remediator::cli

#endif  // REMEDIATOR_CLIENTS_CLI_OUTPUT_H_
