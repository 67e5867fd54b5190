import {
  type Clock,
  conflict,
  isNotificationEvent,
  NOTIFICATION_EVENTS,
  notFound,
  type SecretBox,
  validation,
} from '@simpledeploy/core';
import {
  type Db,
  deleteNotifier,
  findNotifier,
  findStack,
  insertNotifier,
  listNotificationDeliveries,
  listNotifiers,
  type NewNotifierRow,
  type NotificationDeliveryRow,
  type NotifierRow,
  updateNotifier,
} from '@simpledeploy/db';
import type { NotificationMessage } from './message';
import type { Publisher } from './publisher';
import { NOTIFIER_KINDS, type NotifierKind } from './render';
import { maskUrl, splitAddresses } from './targets';
import type { DeliveryWorker } from './worker';

/** `POST /notifiers` (api.md): `url` for every kind (an smtp:// or smtps:// URL for e-mail). */
export interface NotifierInput {
  name: string;
  kind: NotifierKind;
  url: string;
  email_to?: string | string[] | null | undefined;
  email_from?: string | null | undefined;
  /** The webhook's HMAC key (required there) or the ntfy access token. */
  secret?: string | null | undefined;
  events: string[];
  /** Stack ids or names; none = every stack. */
  stacks?: string[] | undefined;
  enabled?: boolean | undefined;
}

export type NotifierPatch = Partial<NotifierInput>;

/** A notifier as the API shows it: the URL masked, the secret only as `has_secret`. */
export interface NotifierView {
  id: string;
  name: string;
  kind: NotifierKind;
  url: string;
  email_to: string[] | null;
  email_from: string | null;
  has_secret: boolean;
  events: string[];
  stacks: string[];
  enabled: boolean;
  created_at: string;
  updated_at: string;
}

export interface NotificationDeliveryView {
  id: string;
  notifier_id: string;
  event: string;
  stack_id: string | null;
  title: string;
  message: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  response_status: number | null;
  created_at: string;
  delivered_at: string | null;
  test: boolean;
}

export const toDeliveryView = (r: NotificationDeliveryRow): NotificationDeliveryView => {
  const m = r.payload as unknown as Partial<NotificationMessage>;
  return {
    id: r.id,
    notifier_id: r.notifierId,
    event: r.event,
    stack_id: r.stackId,
    title: m.title ?? r.event,
    message: m.message ?? '',
    status: r.status as NotificationDeliveryView['status'],
    attempts: r.attempts,
    next_attempt_at: r.status === 'pending' ? r.nextAttemptAt : null,
    last_error: r.lastError,
    response_status: r.responseStatus,
    created_at: r.createdAt,
    delivered_at: r.deliveredAt,
    test: r.test,
  };
};

const NAME = /^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$/;
// Deliberately loose: the SMTP server is the judge; this catches typos like a missing @.
const EMAIL = /^[^\s@<>,]+@[^\s@<>,]+$/;
const MAX_SECRET = 1024;

export interface NotifierServiceDeps {
  db: Db;
  clock: Clock;
  secrets: SecretBox;
  ids: (prefix: 'ntf') => string;
  publisher: Publisher;
  worker: DeliveryWorker;
}

/** Notifiers as a resource (api.md "Notifications"): validation, secrets sealed, views masked. */
export function createNotifierService(deps: NotifierServiceDeps) {
  const { db, clock, secrets: box } = deps;

  const require = (idOrName: string): NotifierRow => {
    const row = findNotifier(db, idOrName);
    if (!row) throw notFound('notifier', idOrName);
    return row;
  };

  function view(r: NotifierRow): NotifierView {
    let url: string;
    try {
      url = maskUrl(r.kind as NotifierKind, box.decrypt(r.urlEnc));
    } catch {
      url = '***';
    }
    return {
      id: r.id,
      name: r.name,
      kind: r.kind as NotifierKind,
      url,
      email_to: r.kind === 'email' ? splitAddresses(r.emailTo) : null,
      email_from: r.emailFrom,
      has_secret: r.secretEnc !== null,
      events: r.events,
      // Stored as ids; shown as names while the stack exists.
      stacks: r.stacks.map((id) => findStack(db, id)?.name ?? id),
      enabled: r.enabled,
      created_at: r.createdAt,
      updated_at: r.updatedAt,
    };
  }

  /** Checks a complete notifier and returns its columns (secrets sealed). */
  function columns(input: NotifierInput): Omit<NewNotifierRow, 'id' | 'createdAt' | 'updatedAt'> {
    const problems: Record<string, string> = {};
    if (typeof input.name !== 'string' || !NAME.test(input.name)) {
      problems.name =
        'name must be 1-64 letters, digits, spaces, "_", "." or "-", starting with a letter or digit';
    }
    if (!(NOTIFIER_KINDS as readonly string[]).includes(input.kind)) {
      problems.kind = `kind must be one of ${NOTIFIER_KINDS.join(', ')}`;
    }
    const urlProblem = checkUrl(input.kind, input.url);
    if (urlProblem) problems.url = urlProblem;
    const to = Array.isArray(input.email_to) ? input.email_to : splitAddresses(input.email_to);
    if (input.kind === 'email') {
      if (to.length === 0)
        problems.email_to = 'an email notifier needs email_to: one or more addresses';
      else if (to.some((a) => !EMAIL.test(a))) {
        problems.email_to = `not an e-mail address: ${to.find((a) => !EMAIL.test(a))}`;
      }
      if (input.email_from && !/^[^<>]*<?[^\s@<>,]+@[^\s@<>,]+>?$/.test(input.email_from)) {
        problems.email_from =
          'email_from must be an address, e.g. "simpledeploy <deploy@example.com>"';
      }
    } else {
      if (to.length) problems.email_to = `email_to is for email notifiers, not ${input.kind}`;
      if (input.email_from)
        problems.email_from = `email_from is for email notifiers, not ${input.kind}`;
    }
    const secret = input.secret ?? null;
    if (input.kind === 'webhook' && (!secret || secret.length < 16)) {
      problems.secret =
        'a webhook notifier needs a secret of at least 16 characters: receivers check X-Simpledeploy-Signature with it';
    } else if (secret !== null && input.kind !== 'webhook' && input.kind !== 'ntfy') {
      problems.secret = `${input.kind} notifiers take no secret: ${input.kind === 'email' ? 'put the SMTP password in the url (smtp://user:password@host:587)' : 'the webhook URL is the credential'}`;
    } else if (secret !== null && (secret.length > MAX_SECRET || /[\r\n]/.test(secret))) {
      problems.secret = `secret must be one line of at most ${MAX_SECRET} characters`;
    }
    const events = Array.isArray(input.events) ? input.events : [];
    if (events.length === 0) {
      problems.events = `events must name at least one of ${NOTIFICATION_EVENTS.join(', ')}`;
    } else if (events.some((e) => !isNotificationEvent(e))) {
      problems.events = `unknown event ${events.filter((e) => !isNotificationEvent(e)).join(', ')}: events are ${NOTIFICATION_EVENTS.join(', ')}`;
    }
    const stackIds: string[] = [];
    for (const s of input.stacks ?? []) {
      const row = findStack(db, s);
      if (row) stackIds.push(row.id);
      else problems.stacks = `stack '${s}' does not exist`;
    }
    const entries = Object.entries(problems);
    if (entries.length) {
      // The house error: every problem a sentence naming its field (api/validate.ts).
      const sentences = entries.map(([field, message]) => `${field}: ${message}`);
      throw validation(sentences.join('; '), {
        ...(entries.length === 1 ? { field: entries[0]?.[0] } : {}),
        problems: sentences,
      });
    }
    return {
      name: input.name,
      kind: input.kind,
      urlEnc: box.encrypt(input.url),
      emailTo: input.kind === 'email' ? to.join(', ') : null,
      emailFrom: input.kind === 'email' ? (input.email_from ?? null) : null,
      secretEnc: secret === null ? null : box.encrypt(secret),
      events: [...new Set(events)],
      stacks: [...new Set(stackIds)],
      enabled: input.enabled ?? true,
    };
  }

  const assertFreeName = (name: string, id?: string) => {
    const other = findNotifier(db, name);
    if (other && other.id !== id) throw conflict(`a notifier named '${name}' exists`, { name });
  };

  return {
    list: (): NotifierView[] => listNotifiers(db).map(view),

    get: (idOrName: string): NotifierView => view(require(idOrName)),

    create(input: NotifierInput): NotifierView {
      const cols = columns(input);
      assertFreeName(cols.name);
      const now = clock.now().toISOString();
      return view(
        insertNotifier(db, { ...cols, id: deps.ids('ntf'), createdAt: now, updatedAt: now }),
      );
    },

    /** Fields left out keep their values; `secret: null` removes the secret. */
    update(idOrName: string, patch: NotifierPatch): NotifierView {
      const row = require(idOrName);
      const current: NotifierInput = {
        name: row.name,
        kind: row.kind as NotifierKind,
        url: box.decrypt(row.urlEnc),
        email_to: row.emailTo,
        email_from: row.emailFrom,
        secret: row.secretEnc ? box.decrypt(row.secretEnc) : null,
        events: row.events,
        stacks: row.stacks.filter((id) => findStack(db, id)),
        enabled: row.enabled,
      };
      const merged = { ...current, ...definedOnly(patch) };
      // A new kind does not inherit fields that belong to the old one.
      if (patch.kind && patch.kind !== row.kind) {
        if (patch.email_to === undefined) merged.email_to = null;
        if (patch.email_from === undefined) merged.email_from = null;
        if (patch.secret === undefined) merged.secret = null;
      }
      const cols = columns(merged);
      assertFreeName(cols.name, row.id);
      const updated = updateNotifier(db, row.id, {
        ...cols,
        updatedAt: clock.now().toISOString(),
      });
      return view(updated ?? require(row.id));
    },

    remove(idOrName: string): void {
      deleteNotifier(db, require(idOrName).id);
    },

    /** Sends a test message now; answers with the delivery (retried later like any other when it fails). */
    async test(idOrName: string): Promise<NotificationDeliveryView> {
      const row = require(idOrName);
      const id = deps.publisher.queueTest(row);
      await deps.worker.deliverNow(id);
      deps.worker.kick();
      const latest = listNotificationDeliveries(db, row.id, 50).find((d) => d.id === id);
      if (!latest) throw notFound('delivery', id);
      return toDeliveryView(latest);
    },

    deliveries(idOrName: string, limit = 50): NotificationDeliveryView[] {
      const row = require(idOrName);
      return listNotificationDeliveries(db, row.id, Math.min(Math.max(limit, 1), 500)).map(
        toDeliveryView,
      );
    },
  };
}

export type NotifierService = ReturnType<typeof createNotifierService>;

const definedOnly = <T extends object>(o: T): Partial<T> =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

function checkUrl(kind: string, url: unknown): string | undefined {
  if (typeof url !== 'string' || url === '') {
    return kind === 'email'
      ? 'an email notifier needs url: the SMTP server, e.g. smtps://user:password@smtp.example.com:465'
      : 'url is required';
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'url is not a URL';
  }
  if (url.length > 2048) return 'url is longer than 2048 characters';
  if (kind === 'email') {
    if (u.protocol !== 'smtp:' && u.protocol !== 'smtps:') {
      return 'an email notifier url is smtp://[user:password@]host[:port] (STARTTLS) or smtps:// (TLS)';
    }
    return u.hostname ? undefined : 'url names no SMTP host';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'url must be http:// or https://';
  if (kind === 'ntfy' && u.pathname.split('/').filter(Boolean).length === 0) {
    return 'an ntfy url is the topic URL, e.g. https://ntfy.sh/my-deploys';
  }
  return undefined;
}
