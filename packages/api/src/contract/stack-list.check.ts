// Compile-time only: the summary view of the domain and the contract's StackSummary are
// the same type (as views.check.ts does for the other views).
import type { StackSummaryView } from '@simpledeploy/deployer';
import type { z } from 'zod';
import type { StackSummary } from './stack-list';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

export const summaryMatchesContract: Same<z.output<typeof StackSummary>, StackSummaryView> = true;
