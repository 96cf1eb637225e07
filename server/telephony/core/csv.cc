#include "server/telephony/core/csv.h"

#include "absl/strings/str_cat.h"

namespace remediator::telephony {

std::string NeutralizeFormula(const std::string& cell) {
  if (cell.empty()) return cell;
  switch (cell[0]) {
    case '=':
    case '+':
    case '-':
    case '@':
    case '\t':
    case '\r':
    case '\'':
      return "'" + cell;
    default:
      return cell;
  }
}

std::string UnneutralizeFormula(const std::string& cell) {
  if (!cell.empty() && cell[0] == '\'') return cell.substr(1);
  return cell;
}

std::string FormatCsvRow(const std::vector<std::string>& cells) {
  std::string out;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) out.push_back(',');
    std::string cell = NeutralizeFormula(cells[i]);
    if (cell.find_first_of(",\"\r\n") == std::string::npos) {
      out += cell;
      continue;
    }
    out.push_back('"');
    for (char c : cell) {
      if (c == '"') out.push_back('"');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('\n');
  return out;
}

absl::StatusOr<CsvParseResult> ParseCsv(const std::string& text) {
  CsvParseResult result;
  std::vector<std::string> row;
  std::string cell;
  bool in_quotes = false;
  bool was_quoted = false;  // the current cell was quoted and its closing quote was seen
  int line = 1;
  size_t i = 0;
  auto end_cell = [&] {
    row.push_back(UnneutralizeFormula(cell));
    cell.clear();
    was_quoted = false;
  };
  while (i < text.size()) {
    char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          cell.push_back('"');
          i += 2;
          continue;
        }
        in_quotes = false;
        was_quoted = true;
      } else {
        if (c == '\n') ++line;
        cell.push_back(c);
      }
      ++i;
      continue;
    }
    if (c == ',') {
      end_cell();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_cell();
      result.rows.push_back(std::move(row));
      row.clear();
      result.complete_bytes = i + 1;
      ++line;
    } else if (c == '"') {
      if (!cell.empty() || was_quoted) {
        return absl::InvalidArgumentError(
            absl::StrCat("CSV line ", line, ": stray quote inside an unquoted cell"));
      }
      in_quotes = true;
    } else {
      if (was_quoted) {
        return absl::InvalidArgumentError(
            absl::StrCat("CSV line ", line, ": text after a closing quote"));
      }
      cell.push_back(c);
    }
    ++i;
  }
  return result;
}

}  // namespace remediator::telephony
