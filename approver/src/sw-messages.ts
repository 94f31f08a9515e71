/** What the service worker (public/sw.js) tells the app's windows about notifications. */
export type WorkerMessage =
  | { type: "countersign:notification"; change: "shown" | "closed"; id: string; tag: string }
  | { type: "countersign:notification"; change: "open"; url: string };

function isWorkerMessage(data: unknown): data is WorkerMessage {
  return typeof data === "object" && data !== null && (data as { type?: unknown }).type === "countersign:notification";
}

/** Listens to this app's service worker; returns the function that stops listening. */
export function onWorkerMessage(listener: (message: WorkerMessage) => void): () => void {
  if (!("serviceWorker" in navigator)) return () => undefined;
  const receive = (event: MessageEvent): void => {
    if (isWorkerMessage(event.data)) listener(event.data);
  };
  navigator.serviceWorker.addEventListener("message", receive);
  return () => navigator.serviceWorker.removeEventListener("message", receive);
}
