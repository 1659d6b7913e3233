/** An error meant for the person at the terminal: its message says what is wrong and how to fix it. */
export class UserError extends Error {
  override readonly name = 'UserError';
  /** 1 = refused or failed, 2 = usage error (the documented exit codes). */
  constructor(message: string, readonly exitCode: 1 | 2 = 1) {
    super(message);
  }
}
