import { isPolicyRule, POLICY_RULE_NAMES } from '@simpledeploy/compose';
import { validation } from '@simpledeploy/core';
import { z } from 'zod';

const secret = z.string().max(4096).nullable();
const relPath = z.string().min(1).max(1024);

const registry = z.strictObject({
  registry: z.string().min(1).max(255),
  username: z.string().min(1).max(255),
  password: z.string().min(1).max(4096),
});

const serviceFilter = z
  .union([z.array(z.string().min(1).max(128)).max(200), z.string().max(4096)])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean));

/** Interpolation values: numbers and booleans are accepted and passed to compose as text. */
const variables = z
  .record(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'variable names are letters, digits and _'),
    z.union([z.string().max(65536), z.number(), z.boolean()]).transform(String),
  )
  .refine((v) => Object.keys(v).length <= 500, 'at most 500 compose_variables')
  .superRefine((v, ctx) => {
    for (const k of Object.keys(v)) {
      if (RESERVED_VARIABLE.test(k))
        ctx.addIssue({
          code: 'custom',
          path: [k],
          message: `${k} is a setting of docker compose or the Docker CLI, not an interpolation variable: simpledeploy sets those itself; rename the variable`,
        });
    }
  });

/**
 * Names compose or the Docker CLI read as their own settings (COMPOSE_PROFILES,
 * COMPOSE_EXPERIMENTAL_GIT_REMOTE, DOCKER_HOST…), and the CLI environment the server fixes.
 */
const RESERVED_VARIABLE = /^(COMPOSE_.*|DOCKER_.*|PATH|HOME)$/i;

/** Rule names of the host policy, or absolute host path prefixes (api.md "Host policy"). */
const policyExceptions = z
  .array(z.string().min(1).max(1024))
  .max(100)
  .superRefine((list, ctx) => {
    list.forEach((e, i) => {
      if (isPolicyRule(e) || (e.startsWith('/') && !e.includes('\0'))) return;
      ctx.addIssue({
        code: 'custom',
        path: [i],
        message: `"${e}" is neither a rule of the host policy (${POLICY_RULE_NAMES.join(', ')}) nor an absolute host path prefix`,
      });
    });
  });

/** Where a git stack's deployment statuses go (README "Commit status"). */
export const COMMIT_STATUS_KINDS = ['auto', 'github', 'gitea', 'gitlab', 'off'] as const;
export type CommitStatusKind = (typeof COMMIT_STATUS_KINDS)[number];

/** The fields of api.md's stack body, as sent (snake_case). Every field optional here; create adds its own rules. */
export const stackFields = z.strictObject({
  name: z.string(),
  compose: z
    .string()
    .max(512 * 1024)
    .nullable(),
  repo_url: z.string().max(2048).nullable(),
  repo_username: z.string().max(255).nullable(),
  repo_token: secret,
  repo_branch: z.string().min(1).max(255).nullable(),
  compose_path: relPath.nullable(),
  compose_includes: z.array(relPath).max(50),
  compose_variables: variables,
  service_filter: serviceFilter,
  policy_exceptions: policyExceptions,
  update_order: z.enum(['stop-first', 'start-first']),
  host: z.string().min(1).max(128),
  engine: z.enum(['compose', 'swarm']),
  auto_deploy: z.boolean(),
  reconcile_interval_seconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3600),
  auto_rollback: z.boolean(),
  /** Deploy (trigger image_update, pull forced) when a service's tag points at a new digest. */
  auto_update: z.boolean(),
  /** How often the registry is asked for the stack's image digests; 0 = never. */
  update_check_interval_seconds: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 3600),
  /** Where deployment statuses go for a git stack: `auto` infers the host from repo_url. */
  commit_status: z.enum(COMMIT_STATUS_KINDS),
  /** The git host's API base URL (self-hosted GitHub Enterprise, Gitea/Forgejo, GitLab). */
  commit_status_api_url: z
    .string()
    .max(2048)
    .regex(
      /^https?:\/\/[^\s/]+\S*$/,
      'must be an http or https URL, like https://git.example.com/api/v1',
    )
    .nullable(),
  deploy_timeout_seconds: z
    .number()
    .int()
    .min(10)
    .max(24 * 3600),
  webhook_secret: secret,
  /** A header of the stack's own carrying `<algorithm>=<hex HMAC of the body>` (Supervisor's signature_header). */
  webhook_signature_header: z
    .string()
    .max(128)
    .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be an HTTP header name, like X-Hub-Signature-256')
    .nullable(),
  docker_registry: z.string().max(255).nullable(),
  docker_username: z.string().max(255).nullable(),
  docker_password: secret,
  registries: z.array(registry).max(20),
});

export type StackFields = z.infer<typeof stackFields>;
export type StackPatch = Partial<StackFields>;

// Built once: `.partial()` makes a new schema, which zod compiles again on its first parse
// (most of the memory a stack create or update allocated, issue 14).
const stackPatchFields = stackFields.partial();

/** Parses a JSON body against the stack fields; every problem is reported at once. */
export function parseStackBody(body: unknown): StackPatch {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw validation('the request body must be a JSON object with the stack fields');
  }
  const res = stackPatchFields.safeParse(body);
  if (!res.success) {
    const problems = res.error.issues.map((i) => describeIssue(i));
    throw validation(problems.join('; '), { problems });
  }
  return res.data;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const field = issue.path.join('.') || 'body';
  if (issue.code === 'unrecognized_keys') {
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}: see the stack fields in the API documentation`;
  }
  if (issue.code === 'invalid_key') {
    const key = String(issue.path[issue.path.length - 1] ?? '');
    return `${issue.path.slice(0, -1).join('.') || 'body'}: ${JSON.stringify(key)} is not a valid variable name: use letters, digits and _, not starting with a digit`;
  }
  if (issue.code === 'invalid_type')
    return `${field} must be ${issue.expected === 'array' ? 'a list' : issue.expected === 'record' ? 'an object' : `a ${issue.expected}`}`;
  if (issue.code === 'too_big') return `${field} is too large (at most ${String(issue.maximum)})`;
  if (issue.code === 'too_small')
    return `${field} is too small (at least ${String(issue.minimum)})`;
  return `${field}: ${issue.message}`;
}
