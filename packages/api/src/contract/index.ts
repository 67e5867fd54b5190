/**
 * The HTTP contract as code (shared/docs/api.md): zod schemas of every request and
 * response, used by the routes' validators and the OpenAPI document. Clients (web, CLI)
 * import the types below with `import type` only.
 */
import type { z } from 'zod';
import type { ErrorBody as ErrorBodySchema } from './common';
import type * as C from './containers';
import type * as D from './deployment';
import type * as Dr from './drift';
import type * as E from './events';
import type * as H from './hosts';
import type * as K from './keys';
import type * as N from './notifiers';
import type * as P from './policy';
import type * as S from './stack';
import type * as SL from './stack-list';
import type * as U from './updates';
import type * as V from './version';
import type * as W from './webhook';

export * from './common';
export * from './containers';
export * from './deployment';
export * from './drift';
export * from './events';
export * from './health';
export * from './hosts';
export * from './keys';
export * from './notifiers';
export * from './policy';
export * from './stack';
export * from './stack-list';
export * from './supervisor';
export * from './updates';
export * from './version';
export * from './webhook';

type Out<T extends z.ZodType> = z.output<T>;
type In<T extends z.ZodType> = z.input<T>;

// Responses: what the server sends.
export type ErrorBodyJson = Out<typeof ErrorBodySchema>;
export type StackJson = Out<typeof S.Stack>;
export type StackStatusJson = Out<typeof S.StackStatus>;
export type StackSummaryJson = Out<typeof SL.StackSummary>;
export type StackListPageJson = Out<typeof SL.StackListPage>;
export type StackUpdatedJson = Out<typeof S.StackUpdated>;
export type StackDeletedJson = Out<typeof S.StackDeleted>;
export type ServiceRowJson = Out<typeof S.ServiceRow>;
export type StatsJson = Out<typeof S.Stats>;
export type ContainerStatsJson = Out<typeof C.ContainerStatsRow>;
export type ContainerLogLineJson = Out<typeof C.ContainerLogLine>;
export type ContainerLogMessageJson = Out<typeof C.ContainerLogMessage>;
export type StackEventJson = Out<typeof S.StackEvent>;
export type DeploymentJson = Out<typeof D.Deployment>;
export type DeploymentDetailJson = Out<typeof D.DeploymentDetail>;
export type DeploymentStatusJson = Out<typeof D.DeploymentStatus>;
export type TriggerJson = Out<typeof D.Trigger>;
export type DeployResultJson = Out<typeof D.DeployResult>;
export type LogLineJson = Out<typeof D.LogLine>;
export type LogMessageJson = Out<typeof D.LogMessage>;
export type LogSnapshotJson = Out<typeof D.LogSnapshot>;
export type VersionJson = Out<typeof V.Version>;
export type VersionDetailJson = Out<typeof V.VersionDetail>;
export type DriftJson = Out<typeof Dr.Drift>;
export type DriftItemJson = Out<typeof Dr.DriftItem>;
export type ImageUpdatesJson = Out<typeof U.ImageUpdates>;
export type PolicyJson = Out<typeof P.PolicyResponse>['policy'];
export type PushMessageJson = Out<typeof E.PushMessage>;
export type WebhookAcceptedJson = Out<typeof W.WebhookAccepted>;
export type KeyJson = Out<typeof K.Key>;
export type KeyCreatedJson = Out<typeof K.KeyCreated>;
export type AuditEntryJson = Out<typeof K.AuditEntry>;
export type HostJson = Out<typeof H.Host>;
export type NotifierJson = Out<typeof N.Notifier>;
export type NotificationDeliveryJson = Out<typeof N.NotificationDelivery>;

// Requests: what a client may send.
export type StackInputJson = In<typeof S.StackInput>;
export type StackCreateJson = In<typeof S.StackCreate>;
export type ControlBodyJson = In<typeof S.ControlBody>;
export type DeployBodyJson = In<typeof D.DeployBody>;
export type RollbackBodyJson = In<typeof D.RollbackBody>;
export type KeyCreateJson = In<typeof K.KeyCreate>;
export type HostCreateJson = In<typeof H.HostCreate>;
export type HostPatchJson = In<typeof H.HostPatch>;
export type NotifierCreateJson = In<typeof N.NotifierCreate>;
export type NotifierPatchJson = In<typeof N.NotifierPatch>;
