import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedactor, silentLogger, systemClock } from '@simpledeploy/core';
import { createExecaRunner } from '@simpledeploy/deployer';
import {
  buildTestImages,
  checkDocker,
  getFreePort,
  startRegistry,
  type TestImages,
  type TestRegistry,
  uniqueProjectName,
} from '@simpledeploy/testing';
import { loadConfig, type ServerConfig } from '../../apps/server/src/config';
import { buildContainer, type Container } from '../../apps/server/src/container';
import type { BenchTarget } from './targets';

/** What every benchmark gets: a real engine, a private registry with test images, and a real server. */
export interface BenchEnv {
  registry: TestRegistry & { username: string; password: string };
  images: TestImages;
  container: Container;
  base: string;
  apiKey: string;
  prefix: string;
  // biome-ignore lint/suspicious/noExplicitAny: benchmarks read whatever JSON the API answers
  api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
  close(): Promise<void>;
}

export async function startBenchEnv(): Promise<BenchEnv> {
  const docker = await checkDocker();
  console.log(`engine ${docker.serverVersion}, compose ${docker.composeVersion}`);
  const credentials = { username: 'bench', password: `pw-${Math.random().toString(36).slice(2)}` };
  const registry = (await startRegistry({ auth: credentials })) as BenchEnv['registry'];
  const images = await buildTestImages(registry);
  const dataDir = mkdtempSync(join(tmpdir(), 'sd-bench-'));
  const apiKey = `bench-${randomBytes(12).toString('hex')}`;
  const port = await getFreePort();
  const prefix = uniqueProjectName('sdtest-bench').slice(0, 30);
  const config = loadConfig({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    SIMPLEDEPLOY_API_KEY: apiKey,
    SIMPLEDEPLOY_SECRET_KEY: 'bench-secret-key-0123456789',
    SIMPLEDEPLOY_DATA_DIR: dataDir,
    SIMPLEDEPLOY_PROJECT_PREFIX: prefix,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'error',
  }) as ServerConfig;
  const container = buildContainer(config, {
    logger: silentLogger,
    redact: createRedactor([apiKey]),
    clock: systemClock,
    runner: createExecaRunner(),
    version: 'bench',
  });
  await container.start();
  const base = `http://127.0.0.1:${port}`;
  return {
    registry: { ...registry, ...credentials },
    images,
    container,
    base,
    apiKey,
    prefix,
    async api(method, path, body) {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { 'X-API-KEY': apiKey, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : undefined };
    },
    async close() {
      await container.stop();
      await registry.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Summary statistics of a sample, in the sample's unit. */
export function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) =>
    s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))] ?? Number.NaN;
  return {
    n: s.length,
    median: q(0.5),
    p90: q(0.9),
    min: s[0] ?? Number.NaN,
    max: s.at(-1) ?? Number.NaN,
  };
}

export const ms = (x: number) => `${x.toFixed(0)} ms`;
export const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

/** One section of docs/benchmarks.md. */
export interface BenchSection {
  title: string;
  body: string;
  /** The targets this section measures: `pnpm bench` prints each with its ratio. */
  targets?: BenchTarget[];
}
