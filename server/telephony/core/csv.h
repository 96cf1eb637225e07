// RFC 4180 CSV cells and rows, with spreadsheet-formula neutralization (design.md §5).
//
// Neutralization is lossless: a cell that starts with = + - @ TAB CR (a spreadsheet would run it
// as a formula) or with an apostrophe is written with one extra leading apostrophe; reading
// removes exactly one leading apostrophe. So "=HYPERLINK(...)" is stored as "'=HYPERLINK(...)"
// and read back as "=HYPERLINK(...)".
// Pure functions, thread-safe.
#ifndef REMEDIATOR_SERVER_TELEPHONY_CORE_CSV_H_
#define REMEDIATOR_SERVER_TELEPHONY_CORE_CSV_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace remediator::telephony {

// Adds the leading apostrophe when needed (see above).
std::string NeutralizeFormula(const std::string& cell);
// Removes one leading apostrophe.
std::string UnneutralizeFormula(const std::string& cell);

// One row: cells neutralized, quoted when they hold a comma, quote, CR or LF (quotes doubled),
// joined by commas and terminated by "\n" (Python's csv and spreadsheets read it; RFC 4180
// readers accept both line ends).
std::string FormatCsvRow(const std::vector<std::string>& cells);

struct CsvParseResult {
  std::vector<std::vector<std::string>> rows;  // cells un-neutralized
  // Bytes of input covered by complete rows (each ended by a line break). A trailing partial
  // row (a write torn by a crash) is not in `rows`, and ends after `complete_bytes`.
  size_t complete_bytes = 0;
};

// Parses CSV text. InvalidArgument with a line number for a quote in the middle of an unquoted
// cell or a character after a closing quote.
absl::StatusOr<CsvParseResult> ParseCsv(const std::string& text);

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_CORE_CSV_H_
