/**
 * `scheme://user:password@host` in text: the form pip, uv and the index services document for private
 * indexes, and the one a password takes in any URL. The user and password as written (URL-encoded).
 */
export const URL_WITH_CREDENTIALS = /\b([a-z][a-z0-9+.-]*):\/\/([^\s/@:]+):([^\s/@]+)@([^\s/:?#@]+)/gi;

/** A URL's user or password as it means it: percent-decoded, or as written when it is not valid. */
export function decodeUrlPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
