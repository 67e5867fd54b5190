import type { TestImages } from './images.js';

/** A registry as handed to tests through inject(). */
export interface ProvidedRegistry {
  /** `127.0.0.1:<port>`, the prefix of image references. */
  host: string;
  /** `http://127.0.0.1:<port>` */
  url: string;
  username?: string;
  password?: string;
}

/** The global setup's git server as handed to tests through inject(). */
export interface ProvidedGitServer {
  /** `http://127.0.0.1:<port>`; a repo is at `<url>/<name>.git`. */
  url: string;
  username: string;
  password: string;
  /** Where its bare repos live: pass `{ root, url }` to gitRepoStore() to create repos and commits. */
  root: string;
}

/** Versions the global setup found. */
export interface ProvidedDocker {
  serverVersion: string;
  apiVersion: string;
  composeVersion: string;
}

/** Everything packages/testing/src/global-setup.ts provides, by inject() key. */
export interface SimpledeployProvidedContext {
  /** Private registry (htpasswd auth); username and password are set. */
  registry: ProvidedRegistry;
  /** Registry without auth. */
  publicRegistry: ProvidedRegistry;
  /** Test images in the private registry. */
  images: TestImages;
  /** The same images in the public registry. */
  publicImages: TestImages;
  gitServer: ProvidedGitServer;
  docker: ProvidedDocker;
}
