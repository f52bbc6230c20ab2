/** A file that cannot be read or parsed into objects; its message names the file (and line). */
export class DocumentError extends Error {
  override readonly name = 'DocumentError';
}
