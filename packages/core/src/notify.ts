/** What notifiers can subscribe to (api.md "Notifications"). */
export const NOTIFICATION_EVENTS = [
  'deployment.succeeded',
  'deployment.failed',
  'deployment.rolled_back',
  'deployment.canceled',
  'drift.detected',
  'update.available',
  'poll.failing',
  'host.unreachable',
] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

export const isNotificationEvent = (s: string): s is NotificationEvent =>
  (NOTIFICATION_EVENTS as readonly string[]).includes(s);

/** One thing worth telling people about; what `Notify.publish` takes. */
export interface Notification {
  event: NotificationEvent;
  /** The stack's id or name. Notifiers limited to stacks receive only their stacks' events; without a stack, every notifier of the event does. */
  stack?: string | undefined;
  /** The host's name, for host events and deployments on a remote host. */
  host?: string | undefined;
  /** The deployment's id, for deployment events. */
  deployment?: string | undefined;
  /** One line for humans, e.g. "deployment of web failed: health check timed out". */
  message: string;
  /** Anything else a receiver may use (JSON values); redacted like the message. */
  details?: Record<string, unknown> | undefined;
}

/**
 * The publish seam: writes the notification to the durable outbox of every notifier
 * that subscribes to its event (and stack), redacted; a worker delivers it with
 * retries. Synchronous and never throws: a broken notifier must not break its caller.
 * Returns how many deliveries were queued.
 */
export interface Notify {
  publish(notification: Notification): number;
}

/** For code paths and tests that have no notifiers. */
export const noNotify: Notify = { publish: () => 0 };
