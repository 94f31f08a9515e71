import { useCallback, useState } from "react";
import { API_PATHS, type SignOutComputersResponse } from "@countersign/shared";
import { ApiError, callApi } from "./api-client.js";

export type SignOutComputersState =
  { step: "idle"; problem: string | null } | { step: "busy" } | { step: "done"; signedOut: number };

/** "Sign out every computer": ends every computer session of the person at once; phones stay. */
export function useSignOutComputers(): { state: SignOutComputersState; signOutComputers: () => void } {
  const [state, setState] = useState<SignOutComputersState>({ step: "idle", problem: null });
  const signOutComputers = useCallback(() => {
    setState({ step: "busy" });
    callApi<SignOutComputersResponse>("POST", API_PATHS.approverSignOutComputers, {})
      .then(({ signedOut }) => setState({ step: "done", signedOut }))
      .catch((error: unknown) =>
        setState({
          step: "idle",
          problem: error instanceof ApiError ? error.message : "The computers could not be signed out. Try again.",
        }),
      );
  }, []);
  return { state, signOutComputers };
}
