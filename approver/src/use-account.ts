import { startRegistration } from "@simplewebauthn/browser";
import { useCallback, useEffect, useState } from "react";
import {
  API_PATHS,
  type EnrolmentOptionsResponse,
  type EnrolmentVerifyResponse,
  type SessionResponse,
  type SessionView,
} from "@countersign/shared";
import { ApiError, callApi } from "./api-client.js";

export type AccountState = { status: "loading" } | { status: "none" } | { status: "enrolled"; session: SessionView };

/** The phone's own account: is it enrolled, and enrolment of a new passkey. */
export function useAccount(): {
  account: AccountState;
  enrol: (details: { username: string; displayName: string }) => Promise<string | null>;
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

  /** Resolves with an error message to show, or null on success. */
  const enrol = useCallback(async (details: { username: string; displayName: string }): Promise<string | null> => {
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
      return error instanceof ApiError ? error.message : "The passkey could not be created.";
    }
  }, []);

  const refresh = useCallback(() => setGeneration((value) => value + 1), []);

  return { account, enrol, refresh };
}
