/** An error a user can act on: a stable code, what went wrong, and how to fix it. */
export class HcError extends Error {
  readonly code: string;
  readonly fix: string;
  /** Process exit code when this error ends the program (2 = bad input, 1 = runtime). */
  readonly exitCode: number;

  constructor(code: string, message: string, fix = "", exitCode = 1) {
    super(fix ? `${message}: ${fix}` : message);
    this.name = "HcError";
    this.code = code;
    this.fix = fix;
    this.exitCode = exitCode;
  }
}

/** Bad input from the user (arguments, files): exit code 2. */
export function inputError(code: string, message: string, fix = ""): HcError {
  return new HcError(code, message, fix, 2);
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
