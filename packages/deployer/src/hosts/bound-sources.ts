import { isInside } from '@simpledeploy/compose';

/**
 * The host paths inside the stack directory that compose's model binds into containers
 * (bind mounts, config and secret files): on a remote host these must exist there, and must
 * not lead out of the directory through a symlink on that host.
 */
export function boundSourcesInside(model: unknown, root: string): string[] {
  const m = model as {
    services?: Record<string, { volumes?: { type?: string; source?: string }[] } | null>;
    configs?: Record<string, { file?: string } | null>;
    secrets?: Record<string, { file?: string } | null>;
  } | null;
  const out = new Set<string>();
  for (const svc of Object.values(m?.services ?? {}))
    for (const v of svc?.volumes ?? [])
      if (v.type === 'bind' && v.source && isInside(v.source, root)) out.add(v.source);
  for (const group of [m?.configs, m?.secrets])
    for (const c of Object.values(group ?? {}))
      if (c?.file && isInside(c.file, root)) out.add(c.file);
  return [...out];
}
