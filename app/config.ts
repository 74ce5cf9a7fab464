// One typed config: a commented defaults object, validated merging, errors that name the key.
// Precedence: flags (overrides) > env (NOWCAST_…) > config file (--config / NOWCAST_CONFIG, JSON) > defaults.
import { readFileSync } from 'node:fs';
import { ConfigError, validate } from './config-validate.js';
import { defaults, type Config, type LatencyService } from './schema.js';

export { ConfigError };
export { defaults };
export type * from './schema.js';


type Plain = Record<string, unknown>;
const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep-merges `patch` onto `base`, rejecting unknown keys and values of the wrong type. */
function mergeInto(base: Plain, patch: Plain, path: string, source?: string): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    const key = path ? `${path}.${k}` : k;
    if (!Object.hasOwn(base, k)) throw new ConfigError(key, 'unknown key', source);
    const cur = base[k];
    if (isPlain(cur)) {
      if (!isPlain(v)) throw new ConfigError(key, 'expected an object', source);
      out[k] = mergeInto(cur, v, key, source);
    } else if (Array.isArray(cur)) {
      if (!Array.isArray(v)) throw new ConfigError(key, 'expected an array', source);
      out[k] = v;
    } else {
      if (typeof v !== typeof cur) throw new ConfigError(key, `expected a ${typeof cur}, got ${JSON.stringify(v)}`, source);
      out[k] = v;
    }
  }
  return out;
}

/** The env var for a key path: `relay.slowViewerBytes` → `NOWCAST_RELAY_SLOW_VIEWER_BYTES`. */
export function envName(key: string): string {
  return 'NOWCAST_' + key.split('.').map((p) => p.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase()).join('_');
}

/** Every leaf key with its default, in declaration order (for --help and the README). */
export function leafKeys(node: Plain = defaults as unknown as Plain, path: string[] = []): Array<[key: string, value: unknown]> {
  return Object.entries(node).flatMap(([k, v]) => (isPlain(v) ? leafKeys(v, [...path, k]) : [[[...path, k].join('.'), v] as [string, unknown]]));
}

/** Parses a text value (env var, `--set`) by the type of the key's default. `what` names its origin. */
function parseText(key: string, sample: unknown, raw: string, what: string): unknown {
  if (typeof sample === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n)) throw new ConfigError(key, `${what} is not a number`);
    return n;
  }
  if (typeof sample === 'boolean') {
    if (!['true', 'false', '1', '0'].includes(raw)) throw new ConfigError(key, `${what} is not a boolean`);
    return raw === 'true' || raw === '1';
  }
  if (Array.isArray(sample)) {
    try { return JSON.parse(raw) as unknown; } catch { throw new ConfigError(key, `${what} is not valid JSON`); }
  }
  return raw;
}

/** Builds the nested patch `{a: {b: value}}` for key `a.b`. */
function patchFor(key: string, value: unknown): Plain {
  return key.split('.').reduceRight<unknown>((acc, k) => ({ [k]: acc }), value) as Plain;
}

/** Deep-merges plain patches (later wins); arrays and scalars replace. */
export function combine(...patches: Plain[]): Plain {
  const out: Plain = {};
  for (const p of patches) {
    for (const [k, v] of Object.entries(p)) {
      const cur = out[k];
      out[k] = isPlain(cur) && isPlain(v) ? combine(cur, v) : v;
    }
  }
  return out;
}

/** Reads NOWCAST_HTTP_PORT-style env vars for scalar keys (JSON for arrays). */
export function envOverrides(env: NodeJS.ProcessEnv, base: Config = defaults): Plain {
  const patches: Plain[] = [];
  for (const [key, sample] of leafKeys(base as unknown as Plain)) {
    const name = envName(key);
    const raw = env[name];
    if (raw !== undefined) patches.push(patchFor(key, parseText(key, sample, raw, `${name}=${raw}`)));
  }
  return combine(...patches);
}

/** `--set KEY=VALUE` pairs into a patch; VALUE is read like the key's env var. */
export function setOverrides(pairs: string[]): Plain {
  const known = new Map(leafKeys());
  return combine(...pairs.map((pair) => {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ConfigError(pair, 'expected --set KEY=VALUE');
    const key = pair.slice(0, eq);
    if (!known.has(key)) throw new ConfigError(key, 'unknown key (--set)');
    return patchFor(key, parseText(key, known.get(key), pair.slice(eq + 1), `--set ${pair}`));
  }));
}

/** Reads a JSON config file: an object shaped like the defaults, any subset of keys. */
export function readConfigFile(path: string): Plain {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError('file', `cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('file', `${path} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isPlain(parsed)) throw new ConfigError('file', `${path} must hold a JSON object`);
  const { $schema: _schema, ...rest } = parsed;
  return rest;
}

/** The service description for one stream: the default with that stream's override on top. */
export function latencyServiceFor(c: Config, stream: string): LatencyService {
  const o = c.latency.streams.find((s) => s.stream === stream);
  if (!o) return c.latency.default;
  const { stream: _name, ...rest } = o;
  return { ...c.latency.default, ...rest };
}

/**
 * Defaults < file < env < overrides (flags), validated. The file is `file`, else
 * NOWCAST_CONFIG from `env`, else none. A bad value in the file names its key and the file.
 */
export function loadConfig(overrides: Plain = {}, env: NodeJS.ProcessEnv = process.env, file?: string): Config {
  const path = file ?? (env.NOWCAST_CONFIG || undefined);
  let c = defaults as unknown as Plain;
  if (path) {
    c = mergeInto(c, readConfigFile(path), '', path);
    // Validate what the file alone gives, so a bad value there is blamed on the file.
    try { validate(c as unknown as Config); } catch (err) {
      if (err instanceof ConfigError && !err.source) throw new ConfigError(err.key, err.message.replace(/^config [^:]+: /, ''), path);
      throw err;
    }
  }
  c = mergeInto(c, envOverrides(env), '');
  return validate(mergeInto(c, overrides, '') as unknown as Config);
}
