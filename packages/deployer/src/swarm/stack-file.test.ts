import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pinnedImage, renderStackFile } from './stack-file';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sd-stackfile-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('pinnedImage', () => {
  it('puts the recorded digest on the tag, and leaves an unpinned service alone', () => {
    expect(pinnedImage('reg:5000/web:v1', 'reg:5000/web:v1@sha256:abc')).toBe(
      'reg:5000/web:v1@sha256:abc',
    );
    expect(pinnedImage('reg:5000/web:v1@sha256:old', 'reg:5000/web:v1@sha256:new')).toBe(
      'reg:5000/web:v1@sha256:new',
    );
    expect(pinnedImage('web:v1', undefined)).toBe('web:v1');
    expect(pinnedImage('web:v1', 'web:v1')).toBe('web:v1');
  });
});

describe('renderStackFile', () => {
  it('turns compose config output into the 3.x shape docker stack deploy reads', async () => {
    const doc = await renderStackFile(
      {
        name: 'sd-web',
        services: {
          web: {
            image: 'reg/web:v1',
            command: null,
            entrypoint: null,
            depends_on: { db: { condition: 'service_started' } },
            profiles: ['a'],
            expose: ['80'],
            networks: { default: null },
            ports: [
              {
                mode: 'ingress',
                target: 80,
                published: '8080',
                protocol: 'tcp',
                app_protocol: 'http',
              },
            ],
          },
          db: { image: 'reg/db:v1' },
        },
        networks: { default: { name: 'sd-web_default', ipam: {} } },
        'x-meta': { a: 1 },
      },
      { stack: 'sd-web', pin: { db: 'reg/db:v1@sha256:d1' }, privateDir: dir },
    );
    expect(doc).toEqual({
      services: {
        web: {
          image: 'reg/web:v1',
          networks: { default: null },
          ports: [{ mode: 'ingress', target: 80, published: 8080, protocol: 'tcp' }],
        },
        db: { image: 'reg/db:v1@sha256:d1' },
      },
      networks: { default: { name: 'sd-web_default', ipam: {} } },
      'x-meta': { a: 1 },
    });
  });

  it('names configs and secrets by their content, so a change gets a new name', async () => {
    const file = join(dir, 'app.conf');
    await writeFile(file, 'one');
    const model = {
      services: { web: { image: 'w' } },
      configs: {
        app: { file, name: 'sd-web_app' },
        inline: { content: 'x=1' },
        ext: { external: true, name: 'shared' },
      },
      secrets: { pw: { file } },
    };
    const first = await renderStackFile(model, { stack: 'sd-web', privateDir: dir });
    const configs = first.configs as Record<string, { name: string; file: string }>;
    expect(configs.app?.name).toMatch(/^sd-web_app_[0-9a-f]{12}$/);
    expect(configs.app?.file).toBe(file);
    expect(configs.ext).toEqual({ external: true, name: 'shared' });
    expect(configs.inline?.name).toMatch(/^sd-web_inline_[0-9a-f]{12}$/);
    expect(await readFile(configs.inline?.file ?? '', 'utf8')).toBe('x=1');
    expect((first.secrets as Record<string, { name: string }>).pw?.name).toBe(
      configs.app?.name.replace('_app_', '_pw_'),
    );

    await writeFile(file, 'two');
    const second = await renderStackFile(model, { stack: 'sd-web', privateDir: dir });
    const changed = (second.configs as Record<string, { name: string }>).app?.name;
    expect(changed).not.toBe(configs.app?.name);
    expect((second.configs as Record<string, { name: string }>).inline?.name).toBe(
      configs.inline?.name,
    );
  });
});
