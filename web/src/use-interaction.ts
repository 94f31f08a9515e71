import { useCallback, useEffect, useState } from "react";
import {
  INTERACTION_PATHS,
  type InteractionDetailsResponse,
  type InteractionRedirectResponse,
} from "@countersign/shared";
import { ApiError, callApi } from "./api-client.js";

export type InteractionState =
  | { step: "loading" }
  | { step: "ready"; details: InteractionDetailsResponse }
  | { step: "leaving" }
  | { step: "failed"; message: string };

/**
 * Signing in to another app (OpenID Connect): what the app is and asks for, and the calls that
 * finish the step and send the browser back through Countersign to the app.
 */
export function useInteraction(uid: string): {
  interaction: InteractionState;
  finishLogin: () => void;
  allow: () => void;
  cancel: () => void;
} {
  const [interaction, setInteraction] = useState<InteractionState>({ step: "loading" });

  useEffect(() => {
    callApi<InteractionDetailsResponse>("GET", INTERACTION_PATHS.details(uid))
      .then((details) => setInteraction({ step: "ready", details }))
      .catch((error: unknown) =>
        setInteraction({
          step: "failed",
          message: error instanceof ApiError ? error.message : "This sign-in could not be loaded.",
        }),
      );
  }, [uid]);

  const leaveThrough = useCallback((path: string) => {
    setInteraction({ step: "leaving" });
    callApi<InteractionRedirectResponse>("POST", path, {})
      .then(({ redirectTo }) => window.location.assign(redirectTo))
      .catch((error: unknown) =>
        setInteraction({
          step: "failed",
          message: error instanceof ApiError ? error.message : "Could not go back to the app.",
        }),
      );
  }, []);

  return {
    interaction,
    finishLogin: useCallback(() => leaveThrough(INTERACTION_PATHS.login(uid)), [leaveThrough, uid]),
    allow: useCallback(() => leaveThrough(INTERACTION_PATHS.consent(uid)), [leaveThrough, uid]),
    cancel: useCallback(() => leaveThrough(INTERACTION_PATHS.abort(uid)), [leaveThrough, uid]),
  };
}
