import { existsSync } from 'node:fs';
import { posix } from 'node:path';

const isObj = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * What an inline stack (one compose file, nothing beside it) asks for that cannot exist:
 * a build (there is no context to build from) and a relative bind mount of a file (the
 * file is not there, and Docker silently mounts an empty directory in its place).
 * Judged on compose's model, whose bind sources are absolute under `root`.
 */
export function inlineProblems(model: unknown, root: string): string[] {
  const out: string[] = [];
  const services = isObj(model) && isObj(model.services) ? model.services : {};
  for (const [name, svc] of Object.entries(services)) {
    if (!isObj(svc)) continue;
    if (svc.build !== undefined)
      out.push(
        `service ${name} has build: an inline stack has no files to build from; push the image to a registry, or make it a git stack (repo_url) with its build context`,
      );
    const vols = Array.isArray(svc.volumes) ? svc.volumes : [];
    for (const v of vols) {
      if (!isObj(v) || v.type !== 'bind' || typeof v.source !== 'string') continue;
      const rel = posix.relative(root, v.source);
      if (rel.startsWith('..') || posix.isAbsolute(rel)) continue;
      // A dotted last part names a file (./nginx.conf); a bare name is a data directory.
      if (/\.[A-Za-z0-9]{1,8}$/.test(posix.basename(v.source)) && !existsSync(v.source))
        out.push(
          `service ${name} mounts ./${rel}, a file an inline stack cannot have (Docker would mount an empty directory there); put the content in configs: with content:, or make it a git stack with the file in the repository`,
        );
    }
  }
  return out;
}
