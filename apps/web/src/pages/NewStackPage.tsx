import { api, type StackInput } from '../api';
import { StackForm } from '../components/StackForm';
import { useApp } from '../context';
import { useAction } from '../hooks';
import { canAdmin } from '../lib/access';
import { links } from '../lib/route';

export function NewStackPage() {
  const { toast, me } = useApp();
  const create = useAction(async (input: StackInput, deployNow: boolean) => {
    const { stack } = await api.createStack(input);
    if (!deployNow) {
      toast(`Stack ${stack.name} created.`, 'success');
      location.hash = links.stack(stack.name);
      return;
    }
    try {
      const { deployment } = await api.deploy(stack.id);
      toast(`Stack ${stack.name} created; deploying.`, 'success');
      location.hash = links.deployment(deployment.id);
    } catch (e) {
      // The stack exists; the deploy can be retried from its page.
      toast(`Stack created, but the deploy was refused: ${(e as Error).message}`, 'error');
      location.hash = links.stack(stack.name);
    }
  });

  return (
    <section class="page page-narrow" aria-labelledby="new-title">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={links.stacks()}>Stacks</a> <span aria-hidden="true">/</span> <span>New</span>
      </nav>
      <h1 id="new-title" tabIndex={-1}>
        New stack
      </h1>
      {canAdmin(me) ? null : (
        <p class="muted" data-testid="admin-only">
          Only an admin key can create stacks; this browser is signed in with a {me?.role} key.
        </p>
      )}
      <StackForm
        original={null}
        busy={create.busy}
        error={create.error}
        submitLabel="Create stack"
        showDeployNow
        onSubmit={(input, { deployNow }) => void create.run(input, deployNow)}
      />
    </section>
  );
}
