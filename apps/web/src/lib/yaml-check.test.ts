import { describe, expect, it } from 'vitest';
import { checkComposeYaml, hasErrors } from './yaml-check';

describe('checkComposeYaml', () => {
  it('accepts a valid compose file', () => {
    expect(checkComposeYaml('services:\n  web:\n    image: nginx:1.27\n')).toEqual([]);
  });

  it('reports a syntax error with its line and column', () => {
    const problems = checkComposeYaml('services:\n  web:\n    image: [nginx\n');
    expect(hasErrors(problems)).toBe(true);
    expect(problems[0]?.line).toBeGreaterThanOrEqual(3);
    expect(problems[0]?.col).toBeGreaterThan(0);
  });

  it('reports a duplicate key', () => {
    const problems = checkComposeYaml('services:\n  web:\n    image: a\n    image: b\n');
    expect(hasErrors(problems)).toBe(true);
    expect(problems[0]?.line).toBe(4);
  });

  it('rejects an empty file and a non-mapping document', () => {
    expect(hasErrors(checkComposeYaml('  \n'))).toBe(true);
    expect(hasErrors(checkComposeYaml('- a\n- b\n'))).toBe(true);
  });

  it('warns, without blocking, when there is no services key', () => {
    const problems = checkComposeYaml('volumes:\n  data: {}\n');
    expect(problems).toHaveLength(1);
    expect(hasErrors(problems)).toBe(false);
  });

  it('rejects services that are not a mapping', () => {
    expect(hasErrors(checkComposeYaml('services: [web]\n'))).toBe(true);
  });
});
