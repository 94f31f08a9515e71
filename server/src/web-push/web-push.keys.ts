import webpush from "web-push";
import { z } from "zod";

export interface VapidKeys {
  /** Uncompressed P-256 point, base64url: the `applicationServerKey` phones subscribe with. */
  publicKey: string;
  privateKey: string;
}

/** The name the key pair is kept under in the deployment's shared values. */
export const VAPID_SHARED_NAME = "web-push-vapid";

/** Read back from the deployment's shared values (Redis): checked like any input. */
const storedKeysSchema = z
  .object({
    publicKey: z.string().regex(/^[A-Za-z0-9_-]{87}$/),
    privateKey: z.string().regex(/^[A-Za-z0-9_-]{43}$/),
  })
  .strict();

/**
 * The server's VAPID key pair, one for every process of a deployment: a push service accepts
 * only messages signed by the key a subscription was made with, so a process with its own pair
 * could reach no phone. From the configuration if set; otherwise made once and kept in the
 * deployment's shared values (the first process to store one wins, and every other process,
 * now or after a restart, reads that one). Resolved on first use, not at start; a failure
 * (the store unreachable) is not remembered, so the next call tries again.
 */
export function createVapidKeySource(options: {
  /** config.webPush.vapidKeys */
  configured: VapidKeys | null;
  /** Deployment.claimShared */
  claimShared: (name: string, create: () => Promise<string>) => Promise<string>;
}): () => Promise<VapidKeys> {
  let pending: Promise<VapidKeys> | null = null;
  return () => {
    if (options.configured !== null) return Promise.resolve(options.configured);
    pending ??= options
      .claimShared(VAPID_SHARED_NAME, () => Promise.resolve(JSON.stringify(webpush.generateVAPIDKeys())))
      .then((stored) => storedKeysSchema.parse(JSON.parse(stored)))
      .catch((error: unknown) => {
        pending = null;
        throw error;
      });
    return pending;
  };
}
