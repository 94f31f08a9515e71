import { AsyncLocalStorage } from "node:async_hooks";

/** Who made the request being served, for the lines written on its behalf. */
export interface RequestContext {
  /** The X-Request-Id the answer carries (the client's own if it sent a sane one). */
  requestId: string;
  /** Where the request came from; computed when first asked, since most requests never are. */
  client(): { ip: string | null; label: string };
}

/**
 * The request a piece of work is being done for, however deep in the services and event
 * listeners it runs: the audit trail reads it, so features need not pass request ids along.
 * One per app (tests run several apps in one process).
 */
export interface RequestScope {
  run<T>(context: RequestContext, work: () => T): T;
  /**
   * Undefined outside a request (a socket event, start-up). Work a request set going, such as a
   * timer it armed, still sees that request.
   */
  current(): RequestContext | undefined;
}

export function createRequestScope(): RequestScope {
  const storage = new AsyncLocalStorage<RequestContext>();
  return {
    run: (context, work) => storage.run(context, work),
    current: () => storage.getStore(),
  };
}
