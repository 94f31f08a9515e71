import { startAuthentication } from "@simplewebauthn/browser";
import { useCallback, useEffect, useRef, useState } from "react";
import {
  API_PATHS,
  isTerminalStatus,
  type CreateLoginResponse,
  type CreatePushLoginResponse,
  type LoginView,
  type PasskeySignInOptionsResponse,
  type QrFrame,
  type SessionResponse,
  type SessionView,
} from "@countersign/shared";
import { ApiError, callApi, postAsPageLeaves } from "./api-client.js";
import { DesktopKeyError, generateDesktopKeys, signDesktopProof } from "./desktop-key.js";
import { createIndexedDbDesktopKeyStore } from "./desktop-key.store.js";
import { LoginSocket } from "./login-socket.js";
import { createPendingLoginStore, type PendingLogin } from "./pending-login.js";
import { createWaitingPushStore, type WaitingPush } from "./waiting-push.js";

export type SignInState =
  | { screen: "loading" }
  | { screen: "signed-in"; session: SessionView }
  | { screen: "qr"; created: CreateLoginResponse; login: LoginView }
  | { screen: "push"; created: CreatePushLoginResponse; username: string; login: LoginView }
  | { screen: "error"; message: string };

/** A push request this page waits on, with the username it was for and its key pair. */
interface PushedLogin {
  created: CreatePushLoginResponse;
  username: string;
  keys: CryptoKeyPair;
}

const messageOf = (error: unknown, fallback: string): string => {
  if (error instanceof ApiError) return error.message;
  if (error instanceof DesktopKeyError) return "This browser cannot make the key a sign-in here needs.";
  return fallback;
};

const targetOf = (created: { login: LoginView; desktopSecret: string }): WaitingPush => ({
  id: created.login.id,
  desktopSecret: created.desktopSecret,
});

/** Whatever state it is in, an abandoned request must not stay approvable. */
function cancelLogin(target: { id: string; desktopSecret: string }): void {
  void callApi("POST", API_PATHS.loginCancel(target.id), { desktopSecret: target.desktopSecret }).catch(
    () => undefined,
  );
}

/** The desktop sign-in: session check, QR request, live status, redeem, passkey, sign out. */
export function useSignIn(options: {
  /** False when an app asked the person to sign in again: a session this browser has does not count. */
  reuseSession: boolean;
  /** Where QR sign-ins start: /api/logins, or the app's own path so the phone names the app. */
  loginsPath: string;
  /** Where push sign-ins start, likewise: /api/push-logins or the app's own path. */
  pushLoginsPath: string;
}): {
  state: SignInState;
  /** The frame the QR shows now (null until the first one is known); it changes every few seconds. */
  qrFrame: QrFrame | null;
  connected: boolean;
  passkeyProblem: string | null;
  newCode: () => void;
  sendToPhone: (username: string) => void;
  /** Cancels the waiting push (its card leaves the phones) and starts a new QR request. */
  cancelPush: () => void;
  signInWithPasskey: () => void;
  signOut: () => void;
} {
  const [state, setState] = useState<SignInState>({ screen: "loading" });
  const [qrFrame, setQrFrame] = useState<QrFrame | null>(null);
  const [connected, setConnected] = useState(true);
  const [passkeyProblem, setPasskeyProblem] = useState<string | null>(null);
  const [pendingLogin] = useState(() =>
    createPendingLoginStore({
      storage: sessionStorage,
      keys: createIndexedDbDesktopKeyStore(),
      now: () => Date.now(),
    }),
  );
  const [waitingPush] = useState(() => createWaitingPushStore({ storage: sessionStorage }));
  const socketRef = useRef<LoginSocket | null>(null);
  /** The QR request this page waits on, with its key pair. */
  const followedRef = useRef<PendingLogin | null>(null);
  /** The push request this page waits on instead of the QR one. */
  const pushRef = useRef<PushedLogin | null>(null);

  /** Drops the push this page waits on, if any, cancelling it so that its card leaves the phones. */
  const abandonPush = useCallback(() => {
    const pushed = pushRef.current;
    pushRef.current = null;
    if (pushed === null) return;
    cancelLogin(targetOf(pushed.created));
    waitingPush.forget(pushed.created.login.id);
  }, [waitingPush]);

  useEffect(() => {
    // A push an earlier page of this tab left waiting (reloaded, or navigated away and back): the
    // cancel it sent while leaving may not have made it, and its card would sit on the phones with
    // a number this page no longer shows.
    const left = waitingPush.remembered();
    if (left !== null) {
      cancelLogin(left);
      waitingPush.forget(left.id);
    }
    // Reload, close or navigation alike. Only a push is cancelled here: a QR request is resumed
    // after a reload on purpose (pending-login.ts), and pagehide cannot tell a reload from a close.
    const onPageHide = (): void => {
      const waiting = waitingPush.remembered();
      if (waiting !== null)
        postAsPageLeaves(API_PATHS.loginCancel(waiting.id), { desktopSecret: waiting.desktopSecret });
    };
    window.addEventListener("pagehide", onPageHide);
    return () => window.removeEventListener("pagehide", onPageHide);
  }, [waitingPush]);

  /** `frame`: the QR's current frame if known; the watch's acknowledgement brings it otherwise. */
  const follow = useCallback(
    (followed: PendingLogin, login: LoginView, frame: QrFrame | null) => {
      const { created, keys } = followed;
      abandonPush();
      followedRef.current = followed;
      void pendingLogin.save(followed);
      setQrFrame(frame);
      setState({ screen: "qr", created, login });
      socketRef.current?.watch({
        id: created.login.id,
        desktopSecret: created.desktopSecret,
        privateKey: keys.privateKey,
      });
    },
    [abandonPush, pendingLogin],
  );

  const startLogin = useCallback(async () => {
    try {
      // A key pair of its own for every request: the server binds the request to its public half.
      const { keys, desktopKey } = await generateDesktopKeys();
      const created = await callApi<CreateLoginResponse>("POST", options.loginsPath, { desktopKey });
      follow({ created, keys }, created.login, created.qr);
    } catch (error) {
      setState({ screen: "error", message: messageOf(error, "Could not start a sign-in.") });
    }
  }, [follow, options.loginsPath]);

  const signedIn = useCallback(
    (session: SessionView) => {
      void pendingLogin.clear();
      followedRef.current = null;
      const pushed = pushRef.current;
      if (pushed !== null) waitingPush.forget(pushed.created.login.id);
      pushRef.current = null;
      setState({ screen: "signed-in", session });
      // A fresh connection carries the new cookie, so this page hears if the session ends.
      socketRef.current?.reconnect();
    },
    [pendingLogin, waitingPush],
  );

  const redeem = useCallback(
    async (approved: { created: { login: LoginView; desktopSecret: string }; keys: CryptoKeyPair }) => {
      const { created, keys } = approved;
      try {
        const proof = await signDesktopProof({
          privateKey: keys.privateKey,
          id: created.login.id,
          use: "redeem",
          now: Date.now(),
        });
        const { session } = await callApi<SessionResponse>("POST", API_PATHS.loginRedeem(created.login.id), {
          desktopSecret: created.desktopSecret,
          proof,
        });
        signedIn(session);
      } catch (error) {
        void pendingLogin.clear();
        setState({ screen: "error", message: messageOf(error, "Could not sign in.") });
      }
    },
    [pendingLogin, signedIn],
  );

  useEffect(() => {
    const socket = new LoginSocket({
      onLogin: (login) => {
        const pushed = pushRef.current;
        if (pushed !== null) {
          setState({ screen: "push", ...pushed, login });
          if (login.status === "approved") void redeem(pushed);
          else if (isTerminalStatus(login.status)) waitingPush.forget(login.id);
          return;
        }
        const followed = followedRef.current;
        if (followed === null) return;
        setState({ screen: "qr", created: followed.created, login });
        if (login.status === "approved") void redeem(followed);
        else if (isTerminalStatus(login.status)) void pendingLogin.clear();
      },
      onQrFrame: setQrFrame,
      onConnectionChange: setConnected,
      onSessionEnded: () => void startLogin(),
      // Nothing left to wait for on this request: show a fresh one rather than a dead QR.
      onWatchRefused: () => {
        void pendingLogin.clear();
        void startLogin();
      },
    });
    socketRef.current = socket;
    const existing = options.reuseSession
      ? callApi<SessionResponse>("GET", API_PATHS.session)
      : Promise.reject(new Error("a fresh sign-in is needed"));
    existing
      .then(({ session }) => signedIn(session))
      .catch(async () => {
        // After a reload, pick the same request up again with the key it was made with; the watch
        // resynchronises its state and brings the QR's current frame (the saved one is stale after
        // a few seconds). Without that key, its watch would be refused: start a new one.
        const resumed = await pendingLogin.load();
        if (resumed !== null) follow(resumed, resumed.created.login, null);
        else void startLogin();
      });
    return () => socket.close();
  }, [follow, pendingLogin, redeem, signedIn, startLogin, waitingPush, options.reuseSession]);

  const newCode = useCallback(() => {
    const followed = followedRef.current;
    if (followed !== null) cancelLogin(targetOf(followed.created));
    abandonPush();
    void pendingLogin.clear();
    void startLogin();
  }, [abandonPush, pendingLogin, startLogin]);

  const cancelPush = useCallback(() => {
    abandonPush();
    // Nothing to show until the new request exists: not the old number, which means nothing now.
    setState({ screen: "loading" });
    void startLogin();
  }, [abandonPush, startLogin]);

  const signInWithPasskey = useCallback(() => {
    setPasskeyProblem(null);
    void (async () => {
      try {
        const start = await callApi<PasskeySignInOptionsResponse>("POST", API_PATHS.passkeySignInOptions, {});
        const credential = await startAuthentication({ optionsJSON: start.options as never });
        const { session } = await callApi<SessionResponse>("POST", API_PATHS.passkeySignInVerify, {
          ceremonyId: start.ceremonyId,
          credential,
        });
        const followed = followedRef.current;
        if (followed !== null) cancelLogin(targetOf(followed.created));
        signedIn(session);
      } catch (error) {
        setPasskeyProblem(messageOf(error, "The passkey prompt was closed or no passkey was found."));
      }
    })();
  }, [signedIn]);

  const sendToPhone = useCallback(
    (username: string) => {
      void (async () => {
        try {
          const { keys, desktopKey } = await generateDesktopKeys();
          const created = await callApi<CreatePushLoginResponse>("POST", options.pushLoginsPath, {
            username,
            desktopKey,
          });
          // Kept first: from now on its card is on the phones, and leaving must take it away.
          waitingPush.remember(targetOf(created));
          const abandoned = followedRef.current;
          if (abandoned !== null) cancelLogin(targetOf(abandoned.created));
          followedRef.current = null;
          abandonPush();
          // A push request is not resumed after a reload, so its keys stay in memory only.
          void pendingLogin.clear();
          pushRef.current = { created, username, keys };
          setQrFrame(null);
          setState({ screen: "push", created, username, login: created.login });
          socketRef.current?.watch({
            id: created.login.id,
            desktopSecret: created.desktopSecret,
            privateKey: keys.privateKey,
          });
        } catch (error) {
          setState({ screen: "error", message: messageOf(error, "Could not send the request.") });
        }
      })();
    },
    [abandonPush, options.pushLoginsPath, pendingLogin, waitingPush],
  );

  const signOut = useCallback(() => {
    void callApi("DELETE", API_PATHS.session).finally(() => void startLogin());
  }, [startLogin]);

  return { state, qrFrame, connected, passkeyProblem, newCode, sendToPhone, cancelPush, signInWithPasskey, signOut };
}
