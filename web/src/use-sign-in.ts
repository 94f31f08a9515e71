import { useCallback, useEffect, useRef, useState } from "react";
import {
  API_PATHS,
  type CreateLoginResponse,
  type LoginView,
  type SessionResponse,
  type SessionView,
} from "@countersign/shared";
import { ApiError, callApi } from "./api-client.js";
import { LoginSocket } from "./login-socket.js";

export type SignInState =
  | { screen: "loading" }
  | { screen: "signed-in"; session: SessionView }
  | { screen: "qr"; created: CreateLoginResponse; login: LoginView }
  | { screen: "error"; message: string };

/** The desktop sign-in: session check, QR request, live status, redeem, sign out. */
export function useSignIn(): {
  state: SignInState;
  connected: boolean;
  newCode: () => void;
  signOut: () => void;
} {
  const [state, setState] = useState<SignInState>({ screen: "loading" });
  const [connected, setConnected] = useState(true);
  const socketRef = useRef<LoginSocket | null>(null);
  const createdRef = useRef<CreateLoginResponse | null>(null);

  const startLogin = useCallback(async () => {
    try {
      const created = await callApi<CreateLoginResponse>("POST", API_PATHS.logins, {});
      createdRef.current = created;
      setState({ screen: "qr", created, login: created.login });
      socketRef.current?.watch({ id: created.login.id, desktopSecret: created.desktopSecret });
    } catch (error) {
      setState({ screen: "error", message: error instanceof ApiError ? error.message : "Could not start a sign-in." });
    }
  }, []);

  const redeem = useCallback(async (created: CreateLoginResponse) => {
    try {
      const { session } = await callApi<SessionResponse>("POST", API_PATHS.loginRedeem(created.login.id), {
        desktopSecret: created.desktopSecret,
      });
      setState({ screen: "signed-in", session });
      socketRef.current?.reconnect();
    } catch (error) {
      setState({ screen: "error", message: error instanceof ApiError ? error.message : "Could not sign in." });
    }
  }, []);

  useEffect(() => {
    const socket = new LoginSocket({
      onLogin: (login) => {
        const created = createdRef.current;
        if (created === null) return;
        setState({ screen: "qr", created, login });
        if (login.status === "approved") void redeem(created);
      },
      onConnectionChange: setConnected,
      onSessionEnded: () => void startLogin(),
    });
    socketRef.current = socket;
    callApi<SessionResponse>("GET", API_PATHS.session)
      .then(({ session }) => setState({ screen: "signed-in", session }))
      .catch(() => startLogin());
    return () => socket.close();
  }, [redeem, startLogin]);

  const newCode = useCallback(() => {
    const created = createdRef.current;
    if (created !== null && (created.login.status === "pending" || created.login.status === "scanned")) {
      void callApi("POST", API_PATHS.loginCancel(created.login.id), { desktopSecret: created.desktopSecret }).catch(
        () => undefined,
      );
    }
    void startLogin();
  }, [startLogin]);

  const signOut = useCallback(() => {
    void callApi("DELETE", API_PATHS.session).finally(() => void startLogin());
  }, [startLogin]);

  return { state, connected, newCode, signOut };
}
