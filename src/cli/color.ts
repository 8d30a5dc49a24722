/**
 * Colours in what the CLI prints (citty's usage): only on a terminal, and never with NO_COLOR
 * set to anything (https://no-color.org) or TERM=dumb. Piped into a file or `less`, the text is
 * plain. Why strip instead of asking citty: it decides once, at import, and only for NO_COLOR=1.
 */

/** SGR sequences (colour, bold, underline): ESC [ params m. */
const SGR = /\x1b\[[0-9;]*m/g;

export interface Terminalish {
  isTTY?: boolean;
}

export function wantsColor(
  stream: Terminalish,
  env: Record<string, string | undefined> = process.env,
): boolean {
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== "dumb";
}

/** `text` as it should reach `stream`: with its colours on a terminal, without them elsewhere. */
export function forStream(
  text: string,
  stream: Terminalish,
  env: Record<string, string | undefined> = process.env,
): string {
  return wantsColor(stream, env) ? text : text.replace(SGR, "");
}
