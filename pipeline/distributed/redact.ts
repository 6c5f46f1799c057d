// Secrets never leave the process: every Redis password seen is registered here, and every text revcor prints or
// writes on a distributed path (errors, logs, lock file, status, resume command) goes through redact().
// Tested in test/pipeline/distributed.test.ts.

const secrets = new Set<string>();

/** Remembers a secret (and its URL-encoded form) so redact() masks it wherever it appears. */
export function registerSecret(secret: string | undefined): void {
  if (!secret) return;
  secrets.add(secret);
  secrets.add(encodeURIComponent(secret));
}

/** Masks the userinfo password of any redis:// or rediss:// URL in a text. */
export function redactUrls(text: string): string {
  return text.replace(/\b(rediss?:\/\/)([^\s:@/]*):([^\s@/]*)@/gi, (_m, scheme: string, user: string, pass: string) => `${scheme}${user}:${pass ? '***' : ''}@`);
}

/** The text with every registered secret and every URL password replaced by ***. */
export function redact(text: string): string {
  let out = redactUrls(text);
  // longest first, so a secret containing another is masked whole
  for (const s of [...secrets].sort((a, b) => b.length - a.length)) if (s.length >= 1) out = out.split(s).join('***');
  return out;
}

/** Command-line arguments with secrets masked (for lock files, logs and printed resume commands). */
export function redactArgs(args: readonly string[]): string[] {
  return args.map(redact);
}
