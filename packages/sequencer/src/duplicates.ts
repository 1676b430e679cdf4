/**
 * Whether an error (or one in its `cause` chain) is a unique-key violation of a common document store:
 * PostgreSQL `23505`, MongoDB `11000`/`11001`, MySQL `1062`/`ER_DUP_ENTRY`, SQLite `SQLITE_CONSTRAINT_UNIQUE`.
 * @example isDuplicateKeyError(pgError) // true for 23505
 */
export function isDuplicateKeyError(error: unknown): boolean {
  try {
    return isDuplicate(error);
  } catch {
    return false; // a hostile error object (throwing getters) is not a duplicate
  }
}

function isDuplicate(error: unknown): boolean {
  for (let e = error, depth = 0; e !== null && typeof e === 'object' && depth < 8; depth++) {
    const code = (e as { code?: unknown }).code;
    if (
      code === '23505' ||
      code === 11000 ||
      code === 11001 ||
      code === 1062 ||
      code === 'ER_DUP_ENTRY' ||
      code === 'SQLITE_CONSTRAINT_UNIQUE'
    ) {
      return true;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}
