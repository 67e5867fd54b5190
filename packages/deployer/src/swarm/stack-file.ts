import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DROPPED_SERVICE_KEYS } from './unsupported-keys';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface StackFileOptions {
  /** The Swarm stack's name: configs and secrets are named under it. */
  stack: string;
  /** service → image reference with its digest: a redeploy of a stored version runs exactly these. */
  pin?: Record<string, string> | null | undefined;
  /** A private directory for the files of inline (`content:`) configs and secrets. */
  privateDir: string;
}

/** The image a service runs, pinned to a digest when one is recorded for it. */
export function pinnedImage(image: string, digestRef: string | undefined): string {
  if (!digestRef) return image;
  const at = digestRef.indexOf('@sha256:');
  if (at < 0) return image;
  // The recorded reference names the same repository; its tag part is informative only.
  const base = image.includes('@') ? image.slice(0, image.indexOf('@')) : image;
  return `${base}${digestRef.slice(at)}`;
}

/** Compose's model of a service, in the shape Compose file 3.x (`docker stack deploy`) reads. */
function stackService(raw: Obj, image: string): Obj {
  const out: Obj = {};
  for (const [key, value] of Object.entries(raw)) {
    // compose prints `command: null` and the like for what is unset; the 3.x schema refuses null.
    if (value === null || DROPPED_SERVICE_KEYS.has(key)) continue;
    out[key] = value;
  }
  out.image = image;
  if (Array.isArray(raw.ports))
    out.ports = raw.ports.map((p) => {
      if (!isObj(p)) return p;
      const { app_protocol: _a, name: _n, ...rest } = p;
      // compose prints published as a string; 3.x wants a number.
      if (typeof rest.published === 'string' && /^\d+$/.test(rest.published))
        rest.published = Number(rest.published);
      return rest;
    });
  return out;
}

const sha12 = (data: Buffer | string) =>
  createHash('sha256').update(data).digest('hex').slice(0, 12);

/**
 * Configs and secrets named by their content (`<stack>_<key>_<sha12>`): Swarm never
 * changes a config in place, so a new name is what makes a changed file roll the services
 * that use it. Inline `content:` becomes a private file (the 3.x format reads files only).
 */
async function hashedSources(defs: unknown, kind: string, o: StackFileOptions): Promise<Obj> {
  const out: Obj = {};
  if (!isObj(defs)) return out;
  for (const [key, def] of Object.entries(defs)) {
    if (!isObj(def) || def.external) {
      out[key] = def;
      continue;
    }
    let file = typeof def.file === 'string' ? def.file : undefined;
    let data: Buffer;
    if (file) data = await readFile(file);
    else {
      data = Buffer.from(String(def.content ?? ''));
      file = join(o.privateDir, `${kind}-${key}`);
      await writeFile(file, data, { mode: 0o600 });
    }
    const { content: _c, name: _n, ...rest } = def;
    out[key] = { ...rest, file, name: `${o.stack}_${key}_${sha12(data)}` };
  }
  return out;
}

/**
 * Compose's resolved model (`.env`, variables, includes and extends already applied,
 * paths absolute) as the file `docker stack deploy -c` reads: compose-only keys dropped,
 * shapes made 3.x's, images pinned when asked, configs and secrets named by content.
 * Call swarmProblems first: what it refuses is not handled here.
 */
export async function renderStackFile(model: unknown, o: StackFileOptions): Promise<Obj> {
  const doc = isObj(model) ? model : {};
  const services: Obj = {};
  for (const [name, raw] of Object.entries(isObj(doc.services) ? doc.services : {})) {
    if (!isObj(raw)) continue;
    services[name] = stackService(raw, pinnedImage(String(raw.image ?? ''), o.pin?.[name]));
  }
  const out: Obj = { services };
  for (const key of Object.keys(doc))
    if (key.startsWith('x-') || key === 'networks' || key === 'volumes') out[key] = doc[key];
  if (doc.configs !== undefined) out.configs = await hashedSources(doc.configs, 'config', o);
  if (doc.secrets !== undefined) out.secrets = await hashedSources(doc.secrets, 'secret', o);
  return out;
}
