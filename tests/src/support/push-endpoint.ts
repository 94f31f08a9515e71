import { createECDH, randomBytes, randomUUID, type ECDH } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import type { PushMessage } from "@countersign/shared";
import { generate } from "selfsigned";

/** http_ece (RFC 8188 / RFC 8291 decryption) ships no types: the one call used here. */
const ece = createRequire(import.meta.url)("http_ece") as {
  decrypt(buffer: Buffer, params: { version: "aes128gcm"; privateKey: ECDH; authSecret: Buffer }): Buffer;
};

/** One request the push endpoint received, decrypted with the subscription's own keys. */
export interface ReceivedPush {
  /** Which subscription it was for (the test's name for a phone). */
  phone: string;
  headers: {
    ttl: string | undefined;
    urgency: string | undefined;
    topic: string | undefined;
    authorization: string | undefined;
    contentEncoding: string | undefined;
  };
  /** The encrypted body exactly as sent. */
  raw: Buffer;
  /** The body decrypted: what the phone's service worker would read. */
  message: PushMessage;
  /** What the endpoint answered. */
  status: number;
}

/** A browser's subscription, made by the test: it holds the private key that decrypts. */
export interface TestSubscription {
  phone: string;
  /** What the approver would PUT: PushSubscription.toJSON(). */
  json: { endpoint: string; expirationTime: null; keys: { p256dh: string; auth: string } };
  /** How the endpoint answers pushes to it from now on (201, or 404/410 for a gone subscription). */
  answerWith(status: number): void;
}

export interface PushEndpoint {
  origin: string;
  received: ReceivedPush[];
  /** A new subscription at this push service, as a phone's browser would make one. */
  subscribe(phone: string): TestSubscription;
  /** Resolves with the first received push that matches, now or when it arrives. */
  waitFor(description: string, predicate: (push: ReceivedPush) => boolean): Promise<ReceivedPush>;
  close(): Promise<void>;
}

/**
 * A push service of the test's own, on https://127.0.0.1 with a self-signed certificate (the
 * server sends there only with WEB_PUSH_DEV_LOOPBACK=true). Like a real one, it answers 201 and
 * keeps what it got; unlike one, it decrypts each body (RFC 8291, aes128gcm) with the keys of the
 * subscription it was sent to, which the test made as a browser would (P-256 key, 16-byte secret).
 */
export async function startPushEndpoint(): Promise<PushEndpoint> {
  const { cert, private: key } = await generate([{ name: "commonName", value: "127.0.0.1" }]);
  const subscriptions = new Map<string, { phone: string; ecdh: ECDH; authSecret: Buffer; status: number }>();
  const received: ReceivedPush[] = [];
  const waiters = new Set<() => void>();

  const server: Server = createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const subscription = subscriptions.get(req.url ?? "");
      if (req.method !== "POST" || subscription === undefined) {
        res.writeHead(404).end();
        return;
      }
      const raw = Buffer.concat(chunks);
      const header = (name: string): string | undefined => {
        const value = req.headers[name];
        return Array.isArray(value) ? value.join(", ") : value;
      };
      const message = JSON.parse(
        ece
          .decrypt(raw, { version: "aes128gcm", privateKey: subscription.ecdh, authSecret: subscription.authSecret })
          .toString("utf8"),
      ) as PushMessage;
      received.push({
        phone: subscription.phone,
        headers: {
          ttl: header("ttl"),
          urgency: header("urgency"),
          topic: header("topic"),
          authorization: header("authorization"),
          contentEncoding: header("content-encoding"),
        },
        raw,
        message,
        status: subscription.status,
      });
      res.writeHead(subscription.status).end();
      for (const waiter of [...waiters]) waiter();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    received,
    subscribe(phone) {
      const ecdh = createECDH("prime256v1");
      ecdh.generateKeys();
      const authSecret = randomBytes(16);
      const path = `/push/${randomUUID()}`;
      const entry = { phone, ecdh, authSecret, status: 201 };
      subscriptions.set(path, entry);
      return {
        phone,
        json: {
          endpoint: `${origin}${path}`,
          expirationTime: null,
          keys: { p256dh: ecdh.getPublicKey().toString("base64url"), auth: authSecret.toString("base64url") },
        },
        answerWith(status) {
          entry.status = status;
        },
      };
    },
    waitFor(description, predicate) {
      // No timer of its own: the test's timeout bounds the wait (`description` is for the reader).
      return new Promise((resolve) => {
        function check(): void {
          const found = received.find(predicate);
          if (found === undefined) return;
          waiters.delete(check);
          resolve(found);
        }
        waiters.add(check);
        check();
      });
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
