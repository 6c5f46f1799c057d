// Redis connections for distributed runs: URL parsing (redis://, rediss:// with a CA file), redacted display,
// and a connection check that turns every way of failing (refused, unknown host, timeout, password, TLS) into
// one RevcorError naming the redacted URL and what was expected.
// Tested in test/pipeline/distributed.test.ts.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import { ConfigError, RevcorError } from '../errors.ts';
import { redact, registerSecret } from './redact.ts';

/** Redis could not be used (unreachable, refused the password, TLS failed, too old). */
export class RedisError extends RevcorError {}

/** A parsed Redis URL: connection options and a display form without the password. */
export interface RedisTarget {
  /** The URL with its password replaced by *** (safe to print). */
  display: string;
  host: string;
  port: number;
  db: number;
  tls: boolean;
  options: RedisOptions;
}

/** Where the CA certificate for rediss:// comes from when --redis-ca is not given. */
export const CA_ENV = 'REVCOR_REDIS_CA';

/** Parses redis://[user][:password@]host[:port][/db] or rediss://… (TLS; `caFile` adds a CA certificate, PEM). */
export function parseRedisUrl(url: string, caFile: string | undefined = process.env[CA_ENV] || undefined, flag = '--redis'): RedisTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // not a URL: whatever precedes an @ may be a password
    const masked = url.includes('@') ? url.replace(/^([a-z]+:\/\/)?.*@/i, (_m, scheme: string | undefined) => `${scheme ?? ''}***@`) : url;
    throw new ConfigError(`${flag} ${redact(masked)}: Expected a Redis URL such as redis://127.0.0.1:6379, redis://:PASSWORD@host:6379/0 or rediss://host:6380, got something that is not a URL.`);
  }
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  registerSecret(password);
  registerSecret(u.password || undefined);
  const scheme = u.protocol.replace(/:$/, '');
  const shown = (): string => redact(url);
  if (scheme !== 'redis' && scheme !== 'rediss') {
    throw new ConfigError(`${flag} ${shown()}: Expected the scheme redis:// (or rediss:// for TLS), got ${scheme}://.`);
  }
  if (!u.hostname) throw new ConfigError(`${flag} ${shown()}: Expected a host name, got none.`);
  const port = u.port ? Number(u.port) : 6379;
  const dbText = u.pathname.replace(/^\//, '');
  if (dbText !== '' && !/^\d{1,5}$/.test(dbText)) throw new ConfigError(`${flag} ${shown()}: Expected a database number after the host (/0), got /${dbText}.`);
  if (u.search || u.hash) throw new ConfigError(`${flag} ${shown()}: Expected no query or fragment, got ${redact(u.search + u.hash)}.`);
  const db = dbText ? Number(dbText) : 0;
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const tls = scheme === 'rediss';
  const options: RedisOptions = {
    host,
    port,
    db,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password,
    // BullMQ requires null (commands wait for a reconnection instead of failing after N retries)
    maxRetriesPerRequest: null,
    connectTimeout: 10_000,
  };
  if (tls) {
    let ca: Buffer | undefined;
    if (caFile) {
      try {
        ca = readFileSync(caFile);
      } catch (e) {
        throw new ConfigError(`--redis-ca ${caFile}: Expected a readable PEM certificate file, got ${(e as NodeJS.ErrnoException).code ?? String(e)}.`);
      }
    }
    options.tls = { ...(ca ? { ca } : {}), ...(isIP(host) ? {} : { servername: host }) };
  } else if (caFile && caFile !== process.env[CA_ENV]) {
    throw new ConfigError(`--redis-ca ${caFile}: Expected a rediss:// URL (TLS) with a CA certificate, got ${shown()}.`);
  }
  const auth = u.username || u.password ? `${u.username}:${u.password ? '***' : ''}@` : '';
  const display = `${scheme}://${auth}${u.host}${db ? `/${db}` : ''}`;
  return { display, host, port, db, tls, options };
}

/** A new client of the target (BullMQ-compatible: reconnects forever with backoff). */
export function newClient(t: RedisTarget, name: string, extra: RedisOptions = {}): Redis {
  const client = new Redis({
    ...t.options,
    connectionName: `revcor-${name}`.replace(/[^A-Za-z0-9_.-]/g, '_'),
    retryStrategy: (times) => Math.min(250 * 2 ** Math.min(times, 5), 5000),
    ...extra,
  });
  // errors surface through the commands that fail; an unhandled 'error' event would crash the process
  client.on('error', () => undefined);
  return client;
}

/** Turns a connection failure into a user-facing message (no password, what was expected). */
export function explainRedisFailure(t: RedisTarget, e: unknown): RedisError {
  const err = e as NodeJS.ErrnoException & { message?: string };
  const msg = redact(String(err?.message ?? e));
  const code = err?.code ?? '';
  const where = `Redis at ${t.display}`;
  let text: string;
  let hint: string | undefined;
  if (/WRONGPASS|invalid username-password|invalid password/i.test(msg)) {
    text = `${where} refused the credentials: expected the password (and user name, if any) of that server in the URL, got wrong ones`;
  } else if (/NOAUTH/i.test(msg)) {
    text = `${where} requires a password: expected one in the URL (before the @ of the host), got none`;
  } else if (/AUTH.*no password is set|without any password configured/i.test(msg)) {
    text = `${where} has no password set: expected a URL without a password, got one`;
  } else if (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(msg)) {
    text = `Cannot connect to ${where}: connection refused. Expected a redis-server listening on ${t.host}:${t.port}`;
    hint = 'Check host and port, and that redis-server runs there (e.g. `redis-server --port 6379`).';
  } else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || /ENOTFOUND|EAI_AGAIN/.test(msg)) {
    text = `Cannot connect to ${where}: host ${t.host} not found. Expected a resolvable host name or address`;
  } else if (/certificate|self[- ]signed|SSL|TLS|wrong version number|EPROTO|ERR_SSL/i.test(msg + code)) {
    text = `TLS connection to ${where} failed: ${msg}. Expected a TLS server whose certificate this machine trusts`;
    hint = `For a private CA pass --redis-ca FILE (or set ${CA_ENV}); for a server without TLS use redis:// instead of rediss://.`;
  } else if (/timed? ?out|ETIMEDOUT/i.test(msg + code)) {
    text = `Cannot connect to ${where}: no answer within the time limit. Expected a Redis server${t.tls ? ' speaking TLS' : ''} at ${t.host}:${t.port}`;
    hint = t.tls ? 'Is that port a TLS port (redis-server --tls-port)?' : 'Is that a TLS-only port (then use rediss://)? Is a firewall in the way?';
  } else if (/ECONNRESET|Connection is closed|socket hang up/i.test(msg + code)) {
    text = `${where} closed the connection: ${msg}. Expected a Redis server${t.tls ? ' speaking TLS' : ''} at ${t.host}:${t.port}`;
    hint = t.tls ? 'Is that port a TLS port?' : 'If the server only speaks TLS, use rediss://.';
  } else {
    text = `Cannot use ${where}: ${msg}`;
  }
  return new RedisError(text + '.', { hint });
}

/**
 * Connects to the target and checks it answers (PING) and is Redis ≥ 5 (BullMQ's minimum), within `timeoutMs`,
 * or throws a RedisError. Nothing is retried: a wrong URL fails at once. The probe connection is closed after.
 */
export async function checkRedis(t: RedisTarget, name: string, timeoutMs = 8000): Promise<void> {
  const client = newClient(t, name, { lazyConnect: true, retryStrategy: () => null, connectTimeout: timeoutMs, maxRetriesPerRequest: 0, enableOfflineQueue: false });
  let lastError: unknown;
  client.on('error', (e) => (lastError ??= e));
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), timeoutMs);
    });
    await Promise.race([
      (async () => {
        await client.connect();
        await client.ping();
      })(),
      timeout,
    ]);
    const info = await client.info('server');
    const version = /redis_version:(\d+)\.(\d+)/.exec(info);
    if (version && Number(version[1]) < 5) {
      throw new RedisError(`Redis at ${t.display} is version ${version[1]}.${version[2]}: expected Redis ≥ 5 (BullMQ's minimum; 7 recommended).`);
    }
  } catch (e) {
    if (e instanceof RevcorError) throw e;
    // ioredis reports the first socket/TLS error as 'error' and then "Connection is closed": prefer the cause
    throw explainRedisFailure(t, lastError && /Connection is closed|timed out/i.test(String((e as Error)?.message)) ? lastError : e);
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}
