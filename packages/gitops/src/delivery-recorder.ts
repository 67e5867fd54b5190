import { type Db, recordDeliveries } from '@simpledeploy/db';

/**
 * Records git hosts' delivery ids a tick at a time: the ids recorded during one turn of
 * the event loop are inserted in one transaction at its end (setImmediate), and each
 * caller learns then whether its id was new. A burst of pushes committed one row per
 * push before, the largest SQLite cost of the webhook path; the id is still committed
 * before the push is acted on and answered, so a delivery seen before is refused after
 * a restart too. A failed write fails every caller of that tick.
 */
export function createDeliveryRecorder(db: Db) {
  let pending: {
    row: { deliveryId: string; stackId: string; now: string };
    done: (fresh: boolean) => void;
    fail: (error: unknown) => void;
  }[] = [];
  function flush(): void {
    const batch = pending;
    pending = [];
    let fresh: boolean[];
    try {
      fresh = recordDeliveries(
        db,
        batch.map((b) => b.row),
      );
    } catch (error) {
      for (const b of batch) b.fail(error);
      return;
    }
    for (const [i, b] of batch.entries()) b.done(fresh[i] === true);
  }
  return {
    /** Resolves true when deliveryId is new for the stack, once it is committed. */
    record(deliveryId: string, stackId: string, now: string): Promise<boolean> {
      if (pending.length === 0) setImmediate(flush);
      return new Promise((done, fail) => {
        pending.push({ row: { deliveryId, stackId, now }, done, fail });
      });
    },
  };
}

export type DeliveryRecorder = ReturnType<typeof createDeliveryRecorder>;
