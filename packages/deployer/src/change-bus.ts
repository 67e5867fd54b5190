import { EventEmitter } from 'node:events';
import type { DeploymentView } from './views';

/** A change of a deployment or a stack: what the UI's push channel and other views follow. */
export type ChangeEvent =
  | { type: 'deployment'; deployment: DeploymentView }
  | { type: 'stack'; stackId: string };

/** Fans change events out to their listeners; built once and injected into every service. */
export interface ChangeBus {
  emit(e: ChangeEvent): void;
  onChange(listener: (e: ChangeEvent) => void): () => void;
}

export function createChangeBus(): ChangeBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    emit: (e) => emitter.emit('change', e),
    onChange(listener) {
      emitter.on('change', listener);
      return () => emitter.off('change', listener);
    },
  };
}
