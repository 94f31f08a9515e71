// The approver's service worker: keeps the app shell so the app opens instantly and installs
// as an app, and shows sign-in requests as notifications while the app is closed. It never
// caches the API: every decision must reach the server live.

// The build replaces the placeholder with a digest of the bundle (vite.config.ts), so each deploy
// gets a fresh shell cache and the old one is dropped on activation.
const CACHE = "countersign-shell-__BUILD_ID__";
const SCOPE = new URL(self.registration.scope).pathname;
const SHELL = [SCOPE, `${SCOPE}manifest.webmanifest`, `${SCOPE}icon-192.png`];
/** What the worker tells the app's windows (shared/src/web-push.schemas.ts has the payload it reads). */
const MESSAGE_TYPE = "countersign:notification";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(SHELL))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname.startsWith("/socket.io/")) return;
  if (event.request.mode === "navigate") {
    // Network first, so a deploy shows at once; the cached shell when offline.
    event.respondWith(fetch(event.request).catch(() => caches.match(SCOPE)));
    return;
  }
  if (url.pathname.startsWith(`${SCOPE}assets/`)) {
    // Hashed file names never change content: cache first.
    event.respondWith(
      caches.match(event.request).then(
        (cached) =>
          cached ??
          fetch(event.request).then((response) => {
            if (response.ok) {
              const copy = response.clone();
              void caches.open(CACHE).then((cache) => cache.put(event.request, copy));
            }
            return response;
          }),
      ),
    );
  }
});

/** The push's PushMessage, or null for anything this version does not understand. */
function readPushMessage(data) {
  if (data === null) return null;
  let message;
  try {
    message = data.json();
  } catch {
    return null;
  }
  if (typeof message !== "object" || message === null || message.v !== 1) return null;
  if (typeof message.id !== "string" || typeof message.tag !== "string") return null;
  if (message.kind === "resolved") return message;
  if (message.kind !== "request") return null;
  if (typeof message.title !== "string" || typeof message.body !== "string") return null;
  // Only ever open this app from a notification, whatever a payload says.
  const url = new URL(String(message.url), self.location.origin);
  if (url.origin !== self.location.origin || !url.pathname.startsWith(SCOPE)) return null;
  return { ...message, url: url.href };
}

/**
 * Tells the app's open windows what the notification tray now shows: an open app reloads its
 * inbox at once (its socket may have been asleep), and tests learn that a notification is shown
 * or closed without reading the tray while a push is being handled, which loses it.
 */
async function tellWindows(change) {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  for (const client of windows) client.postMessage({ type: MESSAGE_TYPE, ...change });
}

async function closeNotifications(tag) {
  const shown = await self.registration.getNotifications({ tag });
  for (const notification of shown) notification.close();
  return shown.length;
}

async function handlePush(message) {
  if (message.kind === "resolved") {
    const closed = await closeNotifications(message.tag);
    await tellWindows({ change: "closed", id: message.id, tag: message.tag, closed });
    return;
  }
  await self.registration.showNotification(message.title, {
    body: message.body,
    tag: message.tag,
    // A newer request from the same sign-in rings again instead of updating silently.
    renotify: true,
    requireInteraction: true,
    icon: `${SCOPE}icon-192.png`,
    badge: `${SCOPE}favicon.png`,
    timestamp: Date.now(),
    data: { url: message.url, id: message.id, expiresAt: message.expiresAt },
  });
  await tellWindows({ change: "shown", id: message.id, tag: message.tag });
}

self.addEventListener("push", (event) => {
  const message = readPushMessage(event.data);
  // Every push must show something (userVisibleOnly); one this version cannot read still says
  // where to look, rather than the browser's generic "updated in the background".
  const handled =
    message === null
      ? self.registration.showNotification("Countersign", { body: "Open the app to see what is waiting." })
      : handlePush(message);
  event.waitUntil(handled);
});

/** Opens the app at the request: in a window already showing it if there is one, else a new one. */
async function openFromNotification(data) {
  const url = new URL(typeof data?.url === "string" ? data.url : SCOPE, self.location.origin);
  const target = url.origin === self.location.origin && url.pathname.startsWith(SCOPE) ? url.href : SCOPE;
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const open = windows.find((client) => new URL(client.url).pathname.startsWith(SCOPE));
  if (open === undefined) {
    await self.clients.openWindow(target);
    return;
  }
  // The app follows the message without a reload, keeping its socket; focusing is allowed only
  // within a real click, so a refusal leaves the window where it is.
  open.postMessage({ type: MESSAGE_TYPE, change: "open", url: target });
  await open.focus().catch(() => undefined);
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(openFromNotification(event.notification.data));
});
