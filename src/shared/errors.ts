/**
 * An error a user can act on: a stable code, what went wrong, and how to fix it, kept apart
 * (`what`, `fix`) so that code can use either; `message` is their one rendering for users,
 * "what: fix" (just "what" without a fix), which is what every log line and exit message shows.
 */
export class HcError extends Error {
  readonly code: string;
  /** What went wrong, one line, without the fix. */
  readonly what: string;
  /** How to fix it; "" when there is nothing the user can do. */
  readonly fix: string;
  /** Process exit code when this error ends the program (2 = bad input, 1 = runtime). */
  readonly exitCode: number;

  constructor(code: string, what: string, fix = "", exitCode = 1) {
    super(withFix(what, fix));
    this.name = "HcError";
    this.code = code;
    this.what = what;
    this.fix = fix;
    this.exitCode = exitCode;
  }
}

/** The one way a problem and its fix are shown to users: "what: fix". */
export function withFix(what: string, fix: string): string {
  return fix ? `${what}: ${fix}` : what;
}

/** Bad input from the user (arguments, files): exit code 2. */
export function inputError(code: string, message: string, fix = ""): HcError {
  return new HcError(code, message, fix, 2);
}

/** What users see of any thrown value (an HcError's message includes its fix). */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** What went wrong, without the fix (for messages that say themselves what happens next). */
export function errorWhat(e: unknown): string {
  return e instanceof HcError ? e.what : errorMessage(e);
}
