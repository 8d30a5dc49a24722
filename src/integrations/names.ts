/** Names and URLs as the integrations show them: topic-safe ids, passwords hidden in logs. */

/** "Kitchen Pi.local" → "kitchen_pi_local": safe in an MQTT topic and a Home Assistant id. */
export function sanitizeName(name: string): string {
  const s = name
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, "_")
    .replace(/^[_-]+|[_-]+$/g, "")
    .slice(0, 64);
  return s || "camera";
}

/** The text as typed, with the password of `scheme://user:password@` hidden. */
export function hidePassword(raw: string): string {
  return raw.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, "$1:***@");
}

/** A URL with its password (and query, which often carries a token) hidden, for logs. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password) u.password = "***";
    if (u.search) u.search = "?***";
    return u.href;
  } catch {
    return hidePassword(raw);
  }
}
