// Compile-time only: the contract's response schemas and the domain's views are the same
// types, so renaming a field on either side breaks the build (and the web's, which reads
// the contract's types).
import type {
  CommandView,
  Deployer,
  DeploymentView,
  DeploymentDetail as DomainDeploymentDetail,
  StackView,
  VersionView,
} from '@simpledeploy/deployer';
import type { DriftReport, ImageUpdateReport } from '@simpledeploy/gitops';
import type { z } from 'zod';
import type { SupervisorStack as DomainSupervisorStack } from '../supervisor/fields';
import type { LogEntry } from '../supervisor/log';
import type { Deployment, DeploymentDetail } from './deployment';
import type { Drift, DriftItem } from './drift';
import type { ServiceRow, Stack, StackEvent, Stats } from './stack';
import type { SupervisorLogEntry, SupervisorStack } from './supervisor';
import type { ImageUpdates } from './updates';
import type { Version } from './version';

type ContainerState = Awaited<ReturnType<Deployer['services']>>[number];
type DomainDriftItem = DriftReport['services'][number];

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Check<S extends z.ZodType, T> = Same<z.output<S>, T>;

export const viewsMatchContract: [
  Check<typeof Stack, StackView>,
  Check<typeof Deployment, DeploymentView>,
  Check<typeof DeploymentDetail, DomainDeploymentDetail>,
  Check<typeof Version, VersionView>,
  Check<typeof StackEvent, CommandView>,
  Check<typeof ServiceRow, ContainerState>,
  Check<typeof Drift, DriftReport>,
  Check<typeof DriftItem, DomainDriftItem>,
  Check<typeof Stats, ReturnType<Deployer['stats']>>,
  Check<typeof SupervisorStack, DomainSupervisorStack>,
  Check<typeof SupervisorLogEntry, LogEntry>,
  Check<typeof ImageUpdates, ImageUpdateReport>,
] = [true, true, true, true, true, true, true, true, true, true, true, true];
