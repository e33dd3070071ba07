/**
 * Outcomes of webhook delivery attempts, for whoever wants to count them (metrics). The delivery worker
 * reports each attempt's outcome here; listeners must be quick and must not throw.
 */
export type DeliveryOutcome = "delivered" | "failed" | "dead";

type Listener = (outcome: DeliveryOutcome) => void;

const listeners = new Set<Listener>();

/** Registers a listener; returns a function that removes it. */
export function onDeliveryOutcomeListener(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Called by the delivery worker once per attempt. */
export function onDeliveryOutcome(outcome: DeliveryOutcome): void {
  for (const l of listeners) {
    try {
      l(outcome);
    } catch {
      /* a listener's failure never affects delivery */
    }
  }
}
