import { describe, expect, it } from 'vitest';
import { parsePrometheusText, sampleValue } from './prometheus-text';

describe('parsePrometheusText', () => {
  it('reads families, labels with escapes and histogram series', () => {
    const f = parsePrometheusText(
      [
        '# HELP a_total A counter.',
        '# TYPE a_total counter',
        'a_total{x="q\\"uote",y="b\\\\s"} 3',
        '# TYPE h histogram',
        'h_bucket{le="1"} 1',
        'h_bucket{le="+Inf"} 2',
        'h_sum 4.5',
        'h_count 2',
        '',
      ].join('\n'),
    );
    expect(f.get('a_total')?.type).toBe('counter');
    expect(sampleValue(f, 'a_total', { x: 'q"uote', y: 'b\\s' })).toBe(3);
    expect(sampleValue(f, 'h_bucket', { le: '+Inf' })).toBe(2);
    expect(sampleValue(f, 'h_sum')).toBe(4.5);
    expect(sampleValue(f, 'h_count', { le: 'none' })).toBeUndefined();
  });

  it('refuses a sample without # TYPE and a malformed line', () => {
    expect(() => parsePrometheusText('x 1\n')).toThrow(/without # TYPE/);
    expect(() => parsePrometheusText('# TYPE x gauge\nx{a="1} 1\n')).toThrow();
    expect(() => parsePrometheusText('# TYPE x gauge\nx one\n')).toThrow(/not a number/);
  });
});
