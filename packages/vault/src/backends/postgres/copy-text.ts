// PostgreSQL COPY text format (one row per line, columns separated by tabs, `\N` for NULL, backslash
// escapes): https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.2

const SIMPLE: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

function unescapeCopy(field: string): string {
  if (!field.includes('\\')) return field;
  let out = '';
  for (let i = 0; i < field.length; i++) {
    const c = field[i] as string;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = field[i + 1] ?? '';
    if (n in SIMPLE) {
      out += SIMPLE[n];
      i++;
    } else if (/[0-7]/.test(n)) {
      const m = /^[0-7]{1,3}/.exec(field.slice(i + 1))?.[0] as string;
      out += String.fromCharCode(Number.parseInt(m, 8));
      i += m.length;
    } else if (n === 'x' && /[0-9a-fA-F]/.test(field[i + 2] ?? '')) {
      const m = /^[0-9a-fA-F]{1,2}/.exec(field.slice(i + 2))?.[0] as string;
      out += String.fromCharCode(Number.parseInt(m, 16));
      i += 1 + m.length;
    } else {
      out += n;
      i++;
    }
  }
  return out;
}

/** One COPY text row → column name → text value (`null` for SQL NULL). */
export function parseCopyTextRow(row: string, columns: readonly string[]): Record<string, string | null> {
  const fields = row.split('\t');
  const out: Record<string, string | null> = {};
  columns.forEach((name, i) => {
    const f = fields[i];
    out[name] = f === undefined || f === '\\N' ? null : unescapeCopy(f);
  });
  return out;
}
