import { z } from 'zod';
import { named, nullableTime, time } from './common';

/** A version: one distinct desired state that was deployed, keyed by its sha256. */
export const Version = named.response(
  'Version',
  z.strictObject({
    id: z.string(),
    sha256: z.string(),
    git_commit: z.string().nullable(),
    created_at: time,
    last_deployed_at: nullableTime,
    last_succeeded_at: nullableTime,
    current: z.boolean(),
  }),
);

export const VersionDetail = named.response(
  'VersionDetail',
  z.strictObject({
    ...Version.shape,
    compose_files: z.array(z.string()).describe('compose files, in `-f` order'),
    env_file: z.string().nullable(),
    services: z.array(z.string()).describe('services deployed; empty means all'),
    files: z.record(z.string(), z.string()).describe('path → content (secrets redacted)'),
    variables: z.record(z.string(), z.string()).describe('interpolation variables (redacted)'),
  }),
  'A version with its files.',
);

export const VersionList = named.response(
  'VersionList',
  z.strictObject({ versions: z.array(Version) }),
);
export const VersionResponse = named.response(
  'VersionResponse',
  z.strictObject({ version: VersionDetail }),
);
