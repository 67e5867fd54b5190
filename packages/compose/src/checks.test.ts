import { describe, expect, it } from 'vitest';
import { checkComposeYaml } from './checks';

describe('checkComposeYaml', () => {
  it('accepts a compose file with services', () => {
    expect(checkComposeYaml('services:\n  web:\n    image: x\n')).toHaveProperty('services');
  });

  it.each([
    ['services: [', /not valid YAML \(line 1\)/],
    ['- a\n- b\n', /YAML mapping/],
    ['version: "3"\n', /at least one service/],
    ['services: {}\n', /at least one service/],
    ['services:\n  a: 1\n  a: 2\n', /not valid YAML/],
    [
      `x-a: &a [1,1,1,1,1,1,1,1,1,1]\nx-b: &b [${'*a,'.repeat(20)}]\nx-c: [${'*b,'.repeat(20)}]\nservices: {w: {image: x}}\n`,
      /too many YAML aliases/,
    ],
  ])('refuses %j with a message that says what to fix', (text, msg) => {
    expect(() => checkComposeYaml(text)).toThrow(msg);
  });
});
