import { AppError, createRedactor, systemClock } from '@simpledeploy/core';
import { type Context, Hono } from 'hono';
import { requestId } from 'hono/request-id';
import type { AppDeps, AppEnv } from './deps';
import { createErrorHandler, notFoundHandler } from './errors';
import { accessLog } from './middleware/access-log';
import { auditTrail } from './middleware/audit';
import { accessControl } from './middleware/auth';
import { requestBodyLimit } from './middleware/body-limit';
import { authFailureLimit } from './middleware/rate-limit';
import { containerRoutes } from './routes/containers';
import { deploymentRoutes } from './routes/deployments';
import { docsRoutes } from './routes/docs';
import { eventRoutes } from './routes/events';
import { gitopsRoutes, isStackWebhook } from './routes/gitops';
import { healthRoutes } from './routes/health';
import { hostRoutes } from './routes/hosts';
import { auditRoutes, keyRoutes } from './routes/keys';
import { logRoutes } from './routes/logs';
import { metricsRoutes } from './routes/metrics';
import { notifierRoutes } from './routes/notifiers';
import { policyRoutes } from './routes/policy';
import { stackRoutes } from './routes/stacks';
import { createStreamRegistry } from './streams';
import { isSupervisorWebhook, supervisorRoutes } from './supervisor/routes';
import { createNodeWebSocket } from './websocket';

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

// Git-host webhooks authenticate themselves (a signature, or the API key).
const isWebhook = (c: Context) => isStackWebhook(c) || isSupervisorWebhook(c);

/**
 * The HTTP app: middleware, error mapping and routes, with every capability taken from
 * deps. Routes are chained (`.route(...)`) so their types reach `AppType` and the web
 * UI's hono/client.
 */
export function createApi(deps: AppDeps) {
  const maxSize = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  // Open streams by key: revoking a key ends the WebSockets and event streams it opened.
  const streams = createStreamRegistry();
  deps.domain.keys.onRevoke((id) => streams.closeKey(id));
  // Who may call what is decided in one table (access.ts), before any handler runs.
  const access = accessControl({
    apiKey: deps.apiKey,
    keys: deps.domain.keys,
    domain: deps.domain,
    streams,
  });
  const root = new Hono<AppEnv>();
  // The API document is generated from the finished app (every route, its validators).
  let whole: Hono<AppEnv> | undefined;
  // WebSocket upgrades are answered by this same app (auth, routing and error bodies included).
  const nodeWs = createNodeWebSocket(root, deps.logger);
  const app = root
    .onError(
      createErrorHandler(
        deps.logger,
        deps.redact ?? createRedactor([deps.apiKey]),
        deps.translateError,
      ),
    )
    .notFound(notFoundHandler)
    .use('*', requestId(), accessLog(deps.logger), auditTrail(deps.domain.audit))
    .use(
      '*',
      deps.rateLimit === false
        ? (_c, next) => next()
        : authFailureLimit({
            clock: deps.clock ?? systemClock,
            isWebhook,
            ...deps.rateLimit,
          }),
    )
    .use(
      '*',
      requestBodyLimit(maxSize, () => {
        throw new AppError(
          'PAYLOAD_TOO_LARGE',
          `the request body is larger than the ${maxSize} bytes allowed`,
          { max_bytes: maxSize },
        );
      }),
    )
    .use('*', access)
    .route('/', healthRoutes(deps))
    .route('/', metricsRoutes(deps))
    .route('/', stackRoutes(deps.domain))
    .route('/', policyRoutes(deps.domain))
    .route('/', hostRoutes(deps.domain))
    .route('/', deploymentRoutes(deps.domain))
    .route('/', logRoutes(deps.domain.deployer, nodeWs.upgradeWebSocket))
    .route('/', containerRoutes(deps.domain.containers, nodeWs.upgradeWebSocket))
    .route('/', eventRoutes(deps.domain, nodeWs.upgradeWebSocket))
    .route('/', gitopsRoutes(deps.domain, deps.apiKey))
    .route('/', keyRoutes(deps.domain))
    .route('/', auditRoutes(deps.domain))
    .route('/', notifierRoutes(deps.domain))
    .route('/', supervisorRoutes({ domain: deps.domain, apiKey: deps.apiKey, clock: deps.clock }))
    .route(
      '/',
      docsRoutes(() => whole ?? root, deps.version, deps.docsAssets),
    );
  whole = app;
  return { app, injectWebSocket: nodeWs.injectWebSocket, wss: nodeWs.wss };
}

/** The Hono app alone, e.g. for `app.request(...)` in tests. */
export function createApp(deps: AppDeps) {
  return createApi(deps).app;
}

/** The app's type, for `hc<AppType>()` in the web UI (a type-only import). */
export type AppType = ReturnType<typeof createApp>;
