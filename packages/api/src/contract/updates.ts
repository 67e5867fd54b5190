import { z } from 'zod';
import { named, time } from './common';

export const ImageUpdateService = named.response(
  'ImageUpdateService',
  z.strictObject({
    service: z.string(),
    image: z.string().describe('the reference compose runs, e.g. registry.example.com/app:1'),
    running_digest: z
      .string()
      .nullable()
      .describe("the manifest digest the running container's image was pulled as"),
    registry_digest: z
      .string()
      .nullable()
      .describe(
        'the manifest digest the registry has for the tag now; null when it did not answer',
      ),
    update_available: z.boolean(),
    error: z
      .string()
      .nullable()
      .describe(
        'why the digests could not be compared (registry refused, not found, built locally…)',
      ),
  }),
);

/** `GET /api/v1/stacks/{stack}/updates` (api.md "Image updates"). */
export const ImageUpdates = named.response(
  'ImageUpdates',
  z.strictObject({ checked_at: time, services: z.array(ImageUpdateService) }),
);
