import { startAuthentication, startRegistration, WebAuthnError } from "@simplewebauthn/browser";
import { useCallback, useEffect, useState } from "react";
import {
  API_PATHS,
  type EnrolmentOptionsResponse,
  type EnrolmentVerifyResponse,
  type ErrorCode,
  type PasskeySignInOptionsResponse,
  type SessionResponse,
  type SessionView,
} from "@countersign/shared";
import { ApiError, callApi } from "./api-client.js";

export type AccountState = { status: "loading" } | { status: "none" } | { status: "enrolled"; session: SessionView };

/** Why enrolling or signing in did not work, in words for the person, with the server's code. */
export interface AccountProblem {
  message: string;
  code: ErrorCode | "NETWORK" | "CANCELLED" | null;
}

const problemOf = (error: unknown, fallback: string): AccountProblem => {
  if (error instanceof ApiError) return { message: error.message, code: error.code };
  // The person closed the passkey prompt, or the phone had no passkey to offer.
  if (
    (error instanceof WebAuthnError && error.name === "NotAllowedError") ||
    (error as Error)?.name === "NotAllowedError"
  ) {
    return { message: "No passkey was used. Try again when you are ready.", code: "CANCELLED" };
  }
  return { message: fallback, code: null };
};

/** The phone's own account: is it enrolled, enrolment of a new passkey, and signing in again. */
export function useAccount(): {
  account: AccountState;
  enrol: (details: { username: string; displayName: string }) => Promise<AccountProblem | null>;
  /**
   * A phone without a session (signed out, or its session lapsed) signs in with the passkey it
   * already holds: no username, the browser offers this site's passkeys.
   */
  signInAgain: () => Promise<AccountProblem | null>;
  /** Reads the session again, e.g. after the server said it ended. */
  refresh: () => void;
} {
  const [account, setAccount] = useState<AccountState>({ status: "loading" });

  // Bumped to read the session again, e.g. right after enrolling.
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    let live = true;
    callApi<SessionResponse>("GET", API_PATHS.approverSession)
      .then(({ session }) => live && setAccount({ status: "enrolled", session }))
      .catch(() => live && setAccount({ status: "none" }));
    return () => {
      live = false;
    };
  }, [generation]);

  /** Resolves with the problem to show, or null on success. */
  const enrol = useCallback(
    async (details: { username: string; displayName: string }): Promise<AccountProblem | null> => {
      try {
        const start = await callApi<EnrolmentOptionsResponse>("POST", API_PATHS.enrolmentOptions, details);
        const credential = await startRegistration({ optionsJSON: start.options as never });
        await callApi<EnrolmentVerifyResponse>("POST", API_PATHS.enrolmentVerify, {
          ceremonyId: start.ceremonyId,
          credential,
        });
        setGeneration((value) => value + 1);
        return null;
      } catch (error) {
        return problemOf(error, "The passkey could not be created.");
      }
    },
    [],
  );

  const signInAgain = useCallback(async (): Promise<AccountProblem | null> => {
    try {
      const start = await callApi<PasskeySignInOptionsResponse>("POST", API_PATHS.approverSignInOptions, {});
      const credential = await startAuthentication({ optionsJSON: start.options as never });
      await callApi<SessionResponse>("POST", API_PATHS.approverSignInVerify, {
        ceremonyId: start.ceremonyId,
        credential,
      });
      setGeneration((value) => value + 1);
      return null;
    } catch (error) {
      if (error instanceof ApiError && error.code === "UNKNOWN_CREDENTIAL") {
        return {
          message:
            "The passkey on this phone is no longer part of an account here (it may have been removed). Set up this phone with a username instead.",
          code: error.code,
        };
      }
      return problemOf(error, "Signing in with this phone's passkey did not work. Try again.");
    }
  }, []);

  const refresh = useCallback(() => setGeneration((value) => value + 1), []);

  return { account, enrol, signInAgain, refresh };
}
