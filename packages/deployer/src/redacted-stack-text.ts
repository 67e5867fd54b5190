import { type Redact, redactionGeneration } from '@simpledeploy/core';

/** The parts of a stack view that carry free text a secret may have been pasted into. */
export interface StackText {
  compose: string | null;
  variables: Record<string, string>;
  lastError: string | null;
}

interface Entry {
  redact: Redact;
  generation: number;
  input: StackText;
  output: StackText;
}

const sameVariables = (a: Record<string, string>, b: Record<string, string>) => {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
};

const redactText = (redact: Redact, t: StackText): StackText => ({
  compose: t.compose === null ? null : redact(t.compose),
  variables: Object.fromEntries(Object.entries(t.variables).map(([k, v]) => [k, redact(v)])),
  lastError: t.lastError && redact(t.lastError),
});

/**
 * A stack's compose file, variables and poll error as redacted for its view, kept per stack
 * while the text, the stack's redactor and that redactor's generation (every secret the
 * server knows) stay the same. A write to one stack then redacts one stack's text when
 * the list is built again, not every stack's: redacting every compose file again was
 * most of the cost of the list rebuilt after a write. A redactor without a generation
 * (not built by @simpledeploy/core) is applied every time.
 */
export function createRedactedStackText(max = 10_000) {
  const entries = new Map<string, Entry>();
  return (stackId: string, redact: Redact, input: StackText): StackText => {
    const generation = redactionGeneration(redact);
    if (generation === undefined) return redactText(redact, input);
    const hit = entries.get(stackId);
    if (
      hit &&
      hit.redact === redact &&
      hit.generation === generation &&
      hit.input.compose === input.compose &&
      hit.input.lastError === input.lastError &&
      sameVariables(hit.input.variables, input.variables)
    ) {
      // A copy: the caller's view owns its variables object.
      return { ...hit.output, variables: { ...hit.output.variables } };
    }
    const output = redactText(redact, input);
    if (entries.size >= max) entries.clear();
    entries.set(stackId, {
      redact,
      generation,
      input: { ...input, variables: { ...input.variables } },
      output,
    });
    return { ...output, variables: { ...output.variables } };
  };
}
