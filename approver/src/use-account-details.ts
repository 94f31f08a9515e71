import { startRegistration, WebAuthnError } from "@simplewebauthn/browser";
import { useCallback, useEffect, useState } from "react";
import {
  API_PATHS,
  type AccountPasskey,
  type ActivityResponse,
  type ActivityView,
  type EnrolmentOptionsResponse,
  type PasskeysResponse,
  type SessionsResponse,
  type SessionSummary,
  type SessionView,
} from "@countersign/shared";
import { ApiError, callApi } from "./api-client.js";

export interface AccountDetails {
  sessions: SessionSummary[];
  passkeys: AccountPasskey[];
  activity: ActivityView[];
}

const ALREADY_HAS_PASSKEY =
  "This phone already has a passkey for your account, so it needs no other: it approves your sign-ins as it is. To add a passkey on another phone, use “Show a code for another phone” and scan it there.";

function problemOf(error: unknown): string {
  if (error instanceof WebAuthnError && error.code === "ERROR_AUTHENTICATOR_PREVIOUSLY_REGISTERED") {
    return ALREADY_HAS_PASSKEY;
  }
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error && error.name === "NotAllowedError") return "No passkey was created.";
  return "That did not work; try again.";
}

/** The signed-in person's devices, passkeys and activity, and what they can do about them. */
export function useAccountDetails(session: SessionView): {
  details: AccountDetails | null;
  problem: string | null;
  /** Each resolves true once done. */
  revokeSession: (id: string) => Promise<boolean>;
  removePasskey: (id: string) => Promise<boolean>;
  addPasskey: () => Promise<boolean>;
} {
  const [details, setDetails] = useState<AccountDetails | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    let live = true;
    Promise.all([
      callApi<SessionsResponse>("GET", API_PATHS.approverSessions),
      callApi<PasskeysResponse>("GET", API_PATHS.approverPasskeys),
      callApi<ActivityResponse>("GET", API_PATHS.approverActivity),
    ])
      .then(([sessions, passkeys, activity]) => {
        if (live) setDetails({ sessions: sessions.sessions, passkeys: passkeys.passkeys, activity: activity.activity });
      })
      .catch((error: unknown) => live && setProblem(error instanceof ApiError ? error.message : "Could not load."));
    return () => {
      live = false;
    };
  }, [generation]);

  const act = useCallback(async (action: () => Promise<unknown>): Promise<boolean> => {
    setProblem(null);
    try {
      await action();
      return true;
    } catch (error) {
      setProblem(problemOf(error));
      return false;
    } finally {
      setGeneration((value) => value + 1);
    }
  }, []);

  return {
    details,
    problem,
    revokeSession: (id) => act(() => callApi("DELETE", API_PATHS.approverSessionById(id))),
    removePasskey: (id) => act(() => callApi("DELETE", API_PATHS.approverPasskey(id))),
    addPasskey: () =>
      act(async () => {
        // Enrolling the account's own username from its signed-in phone adds a passkey to it.
        const start = await callApi<EnrolmentOptionsResponse>("POST", API_PATHS.enrolmentOptions, {
          username: session.user.username,
          displayName: session.user.displayName,
        });
        const credential = await startRegistration({ optionsJSON: start.options as never });
        await callApi("POST", API_PATHS.enrolmentVerify, { ceremonyId: start.ceremonyId, credential });
      }),
  };
}
