import { AppError, type GitClient, stripUrlCredentials } from '@simpledeploy/core';
import {
  resolveGitSource,
  type SimpleDeployGitClient,
  type SnapshotLimits,
} from '@simpledeploy/git';
import type { SourceResolver } from './sources';

export interface GitSourceResolverOptions {
  limits?: SnapshotLimits;
}

const hasStats = (git: GitClient): git is SimpleDeployGitClient =>
  typeof (git as Partial<SimpleDeployGitClient>).checkoutWithStats === 'function';

/**
 * The git source: a shallow checkout of the stack's branch (or the trigger's ref) into
 * the stack's clone dir, which is kept and fetched into on the next deploy, turned into
 * a desired state that holds every file so rollback needs no git server.
 */
export function createGitSourceResolver(
  git: GitClient,
  options: GitSourceResolverOptions = {},
): SourceResolver {
  return {
    async resolve(stack, secrets, opts) {
      if (!stack.repoUrl) throw new AppError('INTERNAL', 'the git source needs a repo_url');
      const url = stripUrlCredentials(stack.repoUrl);
      const ref = opts.ref || stack.repoBranch || undefined;
      opts.log(`git: fetching ${ref ?? 'the default branch'} of ${url}`);
      let stats = '';
      // The stats only feed the log line; any GitClient works without them.
      const client: GitClient = hasStats(git)
        ? {
            resolveRemote: git.resolveRemote,
            async checkout(u, r, dir, creds, opts) {
              const res = await git.checkoutWithStats(u, r, dir, creds, opts);
              stats = `${res.reused ? 'reused the clone' : 'new clone'}, ${res.fetched ? 'fetched' : 'nothing to fetch'}${res.sparse ? `, sparse: ${res.sparse.join(', ')} and the root's files` : ''}`;
              return { commit: res.commit, dir: res.dir, sparse: res.sparse };
            },
          }
        : git;
      try {
        const src = await resolveGitSource({
          git: client,
          stack: {
            repoUrl: stack.repoUrl,
            repoBranch: stack.repoBranch,
            composePath: stack.composePath,
            composeIncludes: stack.composeIncludes,
            composeVariables: stack.composeVariables,
            serviceFilter: stack.serviceFilter,
            credentials: { username: stack.repoUsername ?? undefined, token: secrets.repoToken },
          },
          ref: opts.ref,
          workDir: opts.cacheDir,
          ...(options.limits ? { limits: options.limits } : {}),
        });
        opts.log(`git: checked out ${src.commit}${stats ? ` (${stats})` : ''}`);
        opts.log(
          `git: compose files ${src.state.composeFiles.join(', ')}${src.state.envFile ? `, env file ${src.state.envFile}` : ''}`,
        );
        if (src.skipped.length) {
          opts.log(
            `git: ${src.skipped.length} binary or unusable file(s) are not kept in the version: ${src.skipped.slice(0, 10).join(', ')}`,
          );
        }
        return { state: src.state, commit: src.commit };
      } catch (err) {
        // The deployer turns an AppError's message into the deployment's error; it is
        // already free of credentials (the git client redacts with the token).
        if (err instanceof AppError) opts.log(`git: ${err.message}`);
        throw err;
      }
    },
  };
}
