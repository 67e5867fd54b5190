import { inlineProblems } from '@simpledeploy/compose';
import {
  AppError,
  assertStackName,
  type Clock,
  type CommandRunner,
  conflict,
  maskCredentials,
  type Redact,
  type SecretBox,
  validation,
} from '@simpledeploy/core';
import {
  type Db,
  type DeploymentSummary,
  dataVersion,
  deleteStack,
  findHost,
  findStackByName,
  findStackDeploymentsByStatus,
  insertStack,
  latestDeployment,
  latestDeploymentsOf,
  listOpenDeploymentStatuses,
  listStacks,
  listStacksPage,
  type NewStackRow,
  type StackRow,
  updateStack,
} from '@simpledeploy/db';
import type { ChangeBus } from './change-bus';
import type { Deployer, DeployerConfig } from './deployer';
import { stderrTail } from './output-tail';
import { createRedactedStackText } from './redacted-stack-text';
import { stackColumns } from './stack-columns';
import { parseStackBody, type StackPatch } from './stack-input';
import type { StackLocator } from './stack-locator';
import { decryptSecrets, rowRedactor, type StackSecrets, stackRedactor } from './stack-secrets';
import { type StackSummaryView, toStackSummary } from './stack-summary';
import { takeDownArgs } from './swarm/swarm-engine';
import type { DeploymentView, StackView } from './views';

export type { StackSummaryView } from './stack-summary';

import { LOCAL_HOST } from './hosts';
import { toStackView } from './views';

export interface StackServiceDeps {
  db: Db;
  clock: Clock;
  secrets: SecretBox;
  deployer: Deployer;
  changes: ChangeBus;
  locator: StackLocator;
  ids: (prefix: string) => string;
  /** Server-wide redaction, applied to stack views on top of the stack's own secrets. */
  redact?: Redact;
  /** For `down` when a stack is deleted. */
  runner: CommandRunner;
  config: Pick<DeployerConfig, 'childEnv' | 'dockerBin'>;
}

/** Fields whose change alters what a deploy would run; with auto_deploy they queue one. */
const SHAPING_FIELDS: (keyof StackPatch)[] = [
  'compose',
  'repo_url',
  'repo_username',
  'repo_token',
  'repo_branch',
  'compose_path',
  'compose_includes',
  'compose_variables',
  'service_filter',
  'policy_exceptions',
  'docker_registry',
  'docker_username',
  'docker_password',
  'registries',
];

/** Stacks: validation of the API body, secrets encrypted on the way in, views on the way out. */
export function createStackService(deps: StackServiceDeps) {
  const { db, clock, secrets: box, deployer, changes, locator } = deps;
  const docker = deps.config.dockerBin ?? 'docker';
  const now = () => clock.now().toISOString();

  /**
   * Decrypted secrets and the stack's redactor, reused while the row's ciphertexts are
   * unchanged (each write encrypts with a fresh IV, so any change shows): listing many
   * stacks then costs no decryption.
   */
  const secretCache = new Map<string, { key: string; secrets: StackSecrets; redact: Redact }>();
  const redactedText = createRedactedStackText();
  function secretsOf(row: StackRow) {
    const key = `${row.repoTokenEnc ?? ''}|${row.webhookSecretEnc ?? ''}|${row.registriesEnc ?? ''}`;
    const hit = secretCache.get(row.id);
    if (hit?.key === key) return hit;
    const secrets = decryptSecrets(row, box);
    const entry = { key, secrets, redact: stackRedactor(secrets, deps.redact ?? maskCredentials) };
    if (secretCache.size >= 10_000) secretCache.clear();
    secretCache.set(row.id, entry);
    return entry;
  }

  /**
   * Where a stack runs: `host` (name or id) and `engine`. Changing the host of a stack that
   * runs is a move (POST .../move), never a side effect of a PATCH; `swarm` needs a host that
   * is a swarm manager.
   */
  function placement(patch: StackPatch, current: StackRow | undefined): Partial<NewStackRow> {
    const out: Partial<NewStackRow> = {};
    let hostId = current?.hostId ?? LOCAL_HOST;
    if (patch.host !== undefined) {
      const host = findHost(db, patch.host);
      if (!host)
        throw validation(`host: no host named "${patch.host}"; GET /api/v1/hosts lists them`, {
          field: 'host',
        });
      if (current && host.id !== current.hostId && current.currentVersionId)
        throw conflict(
          `stack ${current.name} runs on host ${deployer.hosts.nameOf(current.hostId)}: move it with POST /api/v1/stacks/${current.name}/move {"host": "${host.name}"}, which takes it down there only once it is healthy on ${host.name}`,
          { field: 'host' },
        );
      hostId = host.id;
      out.hostId = host.id;
    }
    const engine = patch.engine ?? current?.engine ?? 'compose';
    // The running project belongs to one engine: switching would leave it running unseen.
    if (current?.currentVersionId && patch.engine !== undefined && patch.engine !== current.engine)
      throw conflict(
        `stack ${current.name} has run with engine ${current.engine}, whose project a switch would leave behind: create a new stack with engine ${patch.engine} and delete this one (DELETE takes its project down)`,
        { field: 'engine' },
      );
    if (engine === 'swarm' && (patch.engine !== undefined || patch.host !== undefined)) {
      const host = findHost(db, hostId);
      if (!host || !(host.swarm || host.swarmState === 'manager'))
        throw validation(
          `engine "swarm" needs a host that is a swarm manager; host ${host?.name ?? hostId} is ${host?.swarmState ?? 'not checked yet'} (set "swarm": true on the host, or run "docker swarm init" there)`,
          { field: 'engine' },
        );
    }
    return out;
  }

  function view(
    row: StackRow,
    active?: Map<string, 'queued' | 'running'>,
    latest?: Map<string, DeploymentSummary>,
  ): StackView {
    const open = active ?? activeStatuses();
    const st = open.get(row.id);
    const { secrets, redact } = secretsOf(row);
    const v = toStackView(
      row,
      secrets,
      statusOf(st),
      latest ? latest.get(row.id) : latestDeployment(db, row.id),
    );
    // A secret pasted into the YAML, a variable or a git error is masked as in version files.
    const text = redactedText(row.id, redact, {
      compose: v.compose,
      variables: v.compose_variables,
      lastError: v.poll.last_error,
    });
    return {
      ...v,
      host: deployer.hosts.nameOf(row.hostId),
      compose: text.compose,
      compose_variables: text.variables,
      poll: { ...v.poll, last_error: text.lastError },
    };
  }

  const statusOf = (open: 'queued' | 'running' | undefined) =>
    open === 'running' ? 'deploying' : open === 'queued' ? 'queued' : 'idle';

  /** One query for every stack's open deployment: a list of 500 stacks stays cheap. */
  function activeStatuses(): Map<string, 'queued' | 'running'> {
    const m = new Map<string, 'queued' | 'running'>();
    for (const d of listOpenDeploymentStatuses(db)) {
      if (d.status === 'running' || !m.has(d.stackId))
        m.set(d.stackId, d.status as 'queued' | 'running');
    }
    return m;
  }

  const columns = (patch: StackPatch, current: StackRow | undefined) =>
    stackColumns(patch, current, box);

  /**
   * Inline YAML is judged by the host policy on compose's own model before it is saved,
   * so a refused stack is a `422 POLICY` and nothing is stored.
   */
  async function judgeInline(
    row: Pick<StackRow, 'name' | 'compose' | 'composeVariables' | 'policyExceptions'>,
  ) {
    if (!row.compose) return;
    const { model, root } = await deployer.judge(row, {
      files: { 'compose.yaml': row.compose },
      composeFiles: ['compose.yaml'],
      variables: row.composeVariables ?? {},
      services: [],
    });
    const problems = inlineProblems(model, root);
    if (problems.length) throw validation(problems.join('; '), { field: 'compose', problems });
  }

  function checkSource(row: Pick<StackRow, 'compose' | 'repoUrl'>) {
    if (row.compose && row.repoUrl) {
      throw validation(
        'give either compose (inline YAML) or repo_url (a git repository), not both',
        { field: 'compose' },
      );
    }
    if (!row.compose && !row.repoUrl) {
      throw validation('a stack needs compose (inline YAML) or repo_url (a git repository)', {
        field: 'compose',
      });
    }
  }

  return {
    view,

    list(): StackView[] {
      const active = activeStatuses();
      const rows = listStacks(db);
      const latest = latestDeploymentsOf(
        db,
        rows.map((r) => r.id),
      );
      return rows.map((r) => view(r, active, latest));
    },

    /**
     * A page of the list in name order: the stacks named after `after`, at most `limit`
     * (every one without a limit), only those in `only` when given (a key limited to some
     * stacks); `next` is the last name of a page that has more after it. The summary view
     * decrypts nothing and carries no compose file.
     */
    listPage(opts: {
      after?: string;
      limit?: number;
      only?: readonly string[];
      view?: 'full' | 'summary';
    }): { stacks: StackView[] | StackSummaryView[]; next: string | null } {
      const only = opts.only ? new Set(opts.only) : undefined;
      const { limit } = opts;
      let rows = listStacksPage(db, {
        ...(opts.after === undefined ? {} : { after: opts.after }),
        // One more than asked tells whether a next page exists.
        ...(only || limit === undefined ? {} : { limit: limit + 1 }),
      });
      if (only) rows = rows.filter((r) => only.has(r.id));
      const more = limit !== undefined && rows.length > limit;
      if (more) rows = rows.slice(0, limit);
      const active = activeStatuses();
      const latest = latestDeploymentsOf(
        db,
        rows.map((r) => r.id),
      );
      const next = more ? (rows.at(-1)?.name ?? null) : null;
      if (opts.view === 'summary') {
        return {
          stacks: rows.map((r) =>
            toStackSummary(
              r,
              statusOf(active.get(r.id)),
              latest.get(r.id),
              () => secretsOf(r).redact,
            ),
          ),
          next,
        };
      }
      return { stacks: rows.map((r) => view(r, active, latest)), next };
    },

    /**
     * Changes whenever anything a stack view shows may have changed (a count of the
     * database's writes): equal readings mean an answer built from the list is still right.
     */
    listVersion: (): number => dataVersion(db),

    get(idOrName: string): StackView {
      return view(locator.requireStack(idOrName));
    },

    async create(body: unknown): Promise<StackView> {
      const patch = parseStackBody(body);
      const name = assertStackName(patch.name);
      if (patch.compose && patch.repo_url)
        checkSource({ compose: patch.compose, repoUrl: patch.repo_url });
      const cols = { ...columns(patch, undefined), ...placement(patch, undefined) };
      checkSource({ compose: cols.compose ?? null, repoUrl: cols.repoUrl ?? null });
      if (findStackByName(db, name))
        throw conflict(`a stack named ${name} already exists`, { field: 'name' });
      await judgeInline({
        name,
        compose: cols.compose ?? null,
        composeVariables: cols.composeVariables ?? {},
        policyExceptions: cols.policyExceptions ?? [],
      });
      // Another request may have taken the name while compose ran.
      if (findStackByName(db, name))
        throw conflict(`a stack named ${name} already exists`, { field: 'name' });
      const t = now();
      const row = insertStack(db, {
        ...cols,
        id: deps.ids('stk'),
        name,
        createdAt: t,
        updatedAt: t,
      });
      changes.emit({ type: 'stack', stackId: row.id });
      // auto_deploy means now too, not at the first poll minutes later.
      if (row.autoDeploy) deployer.deploy(row.id, { trigger: 'api' });
      return view(row);
    },

    /** Only the fields sent change. With auto_deploy, a change to what gets deployed queues a deploy. */
    async update(
      idOrName: string,
      body: unknown,
    ): Promise<{ stack: StackView; deployment?: DeploymentView; coalesced?: boolean }> {
      const current = locator.requireStack(idOrName);
      const patch = parseStackBody(body);
      if (patch.name !== undefined && patch.name !== current.name) {
        throw validation(
          'name cannot be changed: it is the compose project name; create a new stack instead',
          { field: 'name' },
        );
      }
      // Switching source kind clears the other one, so a PATCH can move a stack to git.
      const switching: Partial<NewStackRow> = {};
      if (patch.compose && patch.repo_url === undefined) switching.repoUrl = null;
      if (patch.repo_url && patch.compose === undefined) switching.compose = null;
      const cols = { ...switching, ...columns(patch, current), ...placement(patch, current) };
      checkSource({ ...current, ...cols } as StackRow);
      if (
        cols.compose !== undefined ||
        cols.composeVariables !== undefined ||
        cols.policyExceptions !== undefined
      )
        await judgeInline({ ...current, ...cols } as StackRow);
      const row = updateStack(db, current.id, { ...cols, updatedAt: now() }) ?? current;
      changes.emit({ type: 'stack', stackId: row.id });
      const shaping = SHAPING_FIELDS.some((f) => patch[f] !== undefined);
      if (row.autoDeploy && shaping) {
        const { deployment, coalesced } = deployer.deploy(row.id, { trigger: 'api' });
        return { stack: view(row), deployment, coalesced };
      }
      return { stack: view(row) };
    },

    /**
     * Takes the compose project down and deletes the stack. When `down` fails the stack is
     * kept, so nothing is lost to a Docker engine that is briefly away.
     */
    async remove(stackIdOrName: string, opts: { removeVolumes: boolean }): Promise<void> {
      const stack = locator.requireStack(stackIdOrName);
      for (const d of findStackDeploymentsByStatus(db, stack.id, ['queued', 'running'])) {
        try {
          deployer.cancel(d.id);
        } catch {
          // It ended meanwhile.
        }
      }
      let failure: string | undefined;
      // Down, files and row go in one chained task: a rollback queued by the cancel above
      // runs after it and finds no stack, instead of starting containers nobody owns.
      await deployer.chain(stack.id, async () => {
        const res = await deps.runner.run(
          docker,
          takeDownArgs(stack.engine, locator.projectOf(stack), opts),
          { env: await deployer.engineEnv(stack) },
        );
        if (res.exitCode !== 0) {
          failure = stderrTail(
            res.stderr,
            rowRedactor(stack, box, deps.redact ?? maskCredentials),
            2,
          );
          return;
        }
        await deployer.removeFiles(stack.id);
        deleteStack(db, stack.id);
      });
      if (failure !== undefined) {
        throw new AppError(
          'UNAVAILABLE',
          `taking ${stack.name} down failed, so it was not deleted: ${failure}`,
        );
      }
      changes.emit({ type: 'stack', stackId: stack.id });
    },
  };
}

export type StackService = ReturnType<typeof createStackService>;
