import { ApprovalError } from './errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** An opaque page cursor: the id the next page starts below. */
export function encodeCursor(id: string): string {
  return Buffer.from(`a1:${id}`, 'utf8').toString('base64url');
}

/**
 * The id a cursor points below.
 * @throws ApprovalError `APPROVAL_CURSOR_INVALID`
 */
export function decodeCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const id = text.startsWith('a1:') ? text.slice(3) : '';
  if (!UUID.test(id)) throw new ApprovalError('APPROVAL_CURSOR_INVALID', 'Malformed approvals page cursor');
  return id;
}
