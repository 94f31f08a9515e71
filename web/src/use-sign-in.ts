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
import { ApiError, callApi } from "./api-client.js";
import { LoginSocket } from "./login-socket.js";
import { pendingLogin } from "./pending-login.js";

export type SignInState =
  | { screen: "loading" }
  | { screen: "signed-in"; session: SessionView }
  | { screen: "qr"; created: CreateLoginResponse; login: LoginView }
  | { screen: "push"; created: CreatePushLoginResponse; username: string; login: LoginView }
  | { screen: "error"; message: string };

const messageOf = (error: unknown, fallback: string): string => (error instanceof ApiError ? error.message : fallback);

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
  signInWithPasskey: () => void;
  signOut: () => void;
} {
  const [state, setState] = useState<SignInState>({ screen: "loading" });
  const [qrFrame, setQrFrame] = useState<QrFrame | null>(null);
  const [connected, setConnected] = useState(true);
  const [passkeyProblem, setPasskeyProblem] = useState<string | null>(null);
  const socketRef = useRef<LoginSocket | null>(null);
  const createdRef = useRef<CreateLoginResponse | null>(null);
  /** The push request this page waits on instead of the QR one, with the username it was for. */
  const pushRef = useRef<{ created: CreatePushLoginResponse; username: string } | null>(null);

  /** `frame`: the QR's current frame if known; the watch's acknowledgement brings it otherwise. */
  const follow = useCallback((created: CreateLoginResponse, login: LoginView, frame: QrFrame | null) => {
    pushRef.current = null;
    createdRef.current = created;
    pendingLogin.save(created);
    setQrFrame(frame);
    setState({ screen: "qr", created, login });
    socketRef.current?.watch({ id: created.login.id, desktopSecret: created.desktopSecret });
  }, []);

  const startLogin = useCallback(async () => {
    try {
      const created = await callApi<CreateLoginResponse>("POST", options.loginsPath, {});
      follow(created, created.login, created.qr);
    } catch (error) {
      setState({ screen: "error", message: messageOf(error, "Could not start a sign-in.") });
    }
  }, [follow, options.loginsPath]);

  const signedIn = useCallback((session: SessionView) => {
    pendingLogin.clear();
    createdRef.current = null;
    setState({ screen: "signed-in", session });
    // A fresh connection carries the new cookie, so this page hears if the session ends.
    socketRef.current?.reconnect();
  }, []);

  const redeem = useCallback(
    async (created: { login: LoginView; desktopSecret: string }) => {
      try {
        const { session } = await callApi<SessionResponse>("POST", API_PATHS.loginRedeem(created.login.id), {
          desktopSecret: created.desktopSecret,
        });
        signedIn(session);
      } catch (error) {
        pendingLogin.clear();
        setState({ screen: "error", message: messageOf(error, "Could not sign in.") });
      }
    },
    [signedIn],
  );

  useEffect(() => {
    const socket = new LoginSocket({
      onLogin: (login) => {
        const pushed = pushRef.current;
        if (pushed !== null) {
          setState({ screen: "push", ...pushed, login });
          if (login.status === "approved") void redeem(pushed.created);
          return;
        }
        const created = createdRef.current;
        if (created === null) return;
        setState({ screen: "qr", created, login });
        if (login.status === "approved") void redeem(created);
        else if (isTerminalStatus(login.status)) pendingLogin.clear();
      },
      onQrFrame: setQrFrame,
      onConnectionChange: setConnected,
      onSessionEnded: () => void startLogin(),
      // Nothing left to wait for on this request: show a fresh one rather than a dead QR.
      onWatchRefused: () => {
        pendingLogin.clear();
        void startLogin();
      },
    });
    socketRef.current = socket;
    const existing = options.reuseSession
      ? callApi<SessionResponse>("GET", API_PATHS.session)
      : Promise.reject(new Error("a fresh sign-in is needed"));
    existing
      .then(({ session }) => signedIn(session))
      .catch(() => {
        // After a reload, pick the same request up again; the watch resynchronises its state and
        // brings the QR's current frame (the saved one is stale after a few seconds).
        const resumed = pendingLogin.load();
        if (resumed !== null && resumed.login.expiresAt > Date.now()) follow(resumed, resumed.login, null);
        else void startLogin();
      });
    return () => socket.close();
  }, [follow, redeem, signedIn, startLogin, options.reuseSession]);

  const newCode = useCallback(() => {
    const created = createdRef.current ?? pushRef.current?.created ?? null;
    if (created !== null) {
      // Whatever state it is in, the old request must not stay approvable once it is abandoned.
      void callApi("POST", API_PATHS.loginCancel(created.login.id), { desktopSecret: created.desktopSecret }).catch(
        () => undefined,
      );
    }
    void startLogin();
  }, [startLogin]);

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
        const created = createdRef.current;
        if (created !== null) {
          void callApi("POST", API_PATHS.loginCancel(created.login.id), { desktopSecret: created.desktopSecret }).catch(
            () => undefined,
          );
        }
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
          const created = await callApi<CreatePushLoginResponse>("POST", options.pushLoginsPath, { username });
          const abandoned = createdRef.current;
          if (abandoned !== null) {
            void callApi("POST", API_PATHS.loginCancel(abandoned.login.id), {
              desktopSecret: abandoned.desktopSecret,
            }).catch(() => undefined);
          }
          createdRef.current = null;
          pendingLogin.clear();
          pushRef.current = { created, username };
          setQrFrame(null);
          setState({ screen: "push", created, username, login: created.login });
          socketRef.current?.watch({ id: created.login.id, desktopSecret: created.desktopSecret });
        } catch (error) {
          setState({ screen: "error", message: messageOf(error, "Could not send the request.") });
        }
      })();
    },
    [options.pushLoginsPath],
  );

  const signOut = useCallback(() => {
    void callApi("DELETE", API_PATHS.session).finally(() => void startLogin());
  }, [startLogin]);

  return { state, qrFrame, connected, passkeyProblem, newCode, sendToPhone, signInWithPasskey, signOut };
}
