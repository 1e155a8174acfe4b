#include "tools/cli/csv.h"

namespace leanos::cli {

Result<std::vector<CsvRow>> parse_csv(const std::string& text) {
  std::vector<CsvRow> rows;
  CsvRow row{1, {}};
  std::string cell;
  bool quoted = false, cell_started = false, closed = false;  // closed: a quoted cell just ended
  int line = 1, quote_line = 0;
  auto end_cell = [&] {
    row.cells.push_back(cell);
    cell.clear();
    cell_started = false;
    closed = false;
  };
  auto end_row = [&] {
    end_cell();
    const bool blank = row.cells.size() == 1 && row.cells[0].empty();
    if (!blank) rows.push_back(std::move(row));
    row = CsvRow{line + 1, {}};
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          cell += '"';
          ++i;
        } else {
          quoted = false;
          closed = true;
        }
      } else {
        if (c == '\n') ++line;
        cell += c;
      }
      continue;
    }
    if (closed && c != ',' && c != '\n' && c != '\r') {
      return Status::invalid("line " + std::to_string(line) + ", column " + std::to_string(row.cells.size() + 1) +
                             ": text after the closing quote of a quoted cell; a quote inside a quoted cell is doubled "
                             "(\"Bad \"\"quote\"\"\" reads Bad \"quote\")");
    }
    if (c == '"' && !cell_started) {
      quoted = true;
      cell_started = true;
      quote_line = line;
    } else if (c == '"') {
      return Status::invalid("line " + std::to_string(line) + ", column " + std::to_string(row.cells.size() + 1) +
                             ": a quote inside an unquoted cell; quote the whole cell and double the quote (\"\")");
    } else if (c == ',') {
      end_cell();
    } else if (c == '\n') {
      end_row();
      ++line;
    } else if (c != '\r') {
      cell += c;
      cell_started = true;
    }
  }
  if (quoted) return Status::invalid("line " + std::to_string(quote_line) + ": a quoted cell is never closed");
  if (!cell.empty() || !row.cells.empty()) end_row();
  return rows;
}

}  // namespace leanos::cli
