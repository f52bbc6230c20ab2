/** An error caused by the user's input: printed as one message, without a stack trace. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
