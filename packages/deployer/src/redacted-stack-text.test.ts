import { createRedactor, createSecretRegistry, REDACTED, type Redact } from '@simpledeploy/core';
import { describe, expect, it } from 'vitest';
import { createRedactedStackText } from './redacted-stack-text';

const text = (compose: string) => ({ compose, variables: { A: 'x-secret-one' }, lastError: null });

describe('createRedactedStackText', () => {
  it('redacts once while text and secrets stay, again when either changes', () => {
    const registry = createSecretRegistry(['secret-one']);
    let calls = 0;
    const counted = registry.redact;
    const redacted = createRedactedStackText();
    const spy = (t: string) => {
      calls++;
      return counted(t);
    };
    // A redactor not built by core has no generation: it runs every time.
    redacted('s1', spy, text('a secret-one'));
    redacted('s1', spy, text('a secret-one'));
    expect(calls).toBe(4);

    const first = redacted('s1', counted, text('a secret-one b secret-two'));
    expect(first).toEqual({
      compose: `a ${REDACTED} b secret-two`,
      variables: { A: `x-${REDACTED}` },
      lastError: null,
    });
    // Same text, same secrets: the kept answer (a copy of it).
    const again = redacted('s1', counted, text('a secret-one b secret-two'));
    expect(again).toEqual(first);
    expect(again.variables).not.toBe(first.variables);

    // Setting the same secrets again changes nothing; a new one redacts anew.
    registry.set('other', ['secret-two']);
    const before = redacted('s1', counted, text('a secret-one b secret-two'));
    expect(before.compose).toBe(`a ${REDACTED} b ${REDACTED}`);
    registry.set('other', ['secret-two']);
    registry.delete('other');
    expect(redacted('s1', counted, text('a secret-one b secret-two')).compose).toBe(
      `a ${REDACTED} b secret-two`,
    );
    // New text of the same stack.
    expect(redacted('s1', counted, text('c secret-one')).compose).toBe(`c ${REDACTED}`);
  });

  it('follows a different redactor for the same stack', () => {
    const redacted = createRedactedStackText();
    const a: Redact = createRedactor(['alpha-secret']);
    const b: Redact = createRedactor(['beta-secret']);
    const t = text('alpha-secret beta-secret');
    expect(redacted('s', a, t).compose).toBe(`${REDACTED} beta-secret`);
    expect(redacted('s', b, t).compose).toBe(`alpha-secret ${REDACTED}`);
  });
});
