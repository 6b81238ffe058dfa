/**
 * A small RFC 4180 CSV reader: comma-separated, fields optionally in double quotes (a quote
 * inside is doubled), CRLF or LF line ends, a UTF-8 byte-order mark ignored. Each row keeps the
 * line number it starts on, for error messages. Blank lines are skipped.
 */

export interface CsvRow {
  line: number;
  fields: string[];
}

export class CsvError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'CsvError';
  }
}

export function parseCsv(text: string): CsvRow[] {
  const rows: CsvRow[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let fields: string[] = [];
  let field = '';
  let rowLine = 1;
  let quoted = false;
  let fieldStarted = false;
  let closed = false;
  const endField = () => {
    fields.push(field);
    field = '';
    fieldStarted = false;
    closed = false;
  };
  const endRow = () => {
    endField();
    if (!(fields.length === 1 && fields[0] === '')) rows.push({ line: rowLine, fields });
    fields = [];
  };
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else {
          quoted = false;
          closed = true;
        }
      } else {
        if (c === '\n') line++;
        field += c;
      }
      continue;
    }
    if (c === '"') {
      if (fieldStarted || field !== '') throw new CsvError(line, 'a quote inside an unquoted field (quote the whole field and double the quote)');
      quoted = true;
      fieldStarted = true;
    } else if (c === ',') {
      endField();
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else {
      if (closed) throw new CsvError(line, 'characters after a closing quote');
      field += c;
    }
  }
  if (quoted) throw new CsvError(rowLine, 'a quoted field is not closed');
  if (field !== '' || fields.length > 0 || fieldStarted) endRow();
  return rows;
}
