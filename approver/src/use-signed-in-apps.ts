import { useCallback, useEffect, useState } from "react";
import { API_PATHS, type OidcAppsResponse, type OidcAppView } from "@countersign/shared";
import { ApiError, callApi } from "./api-client.js";

/** The apps the signed-in person has let use their account, and removing one's access. */
export function useSignedInApps(): {
  /** null until loaded. */
  apps: OidcAppView[] | null;
  problem: string | null;
  /** Resolves true once the app's access is gone (also when it already was). */
  removeAccess: (clientId: string) => Promise<boolean>;
} {
  const [apps, setApps] = useState<OidcAppView[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);

  useEffect(() => {
    let live = true;
    callApi<OidcAppsResponse>("GET", API_PATHS.approverApps)
      .then((response) => live && setApps(response.apps))
      .catch(
        (error: unknown) => live && setProblem(error instanceof ApiError ? error.message : "Could not load your apps."),
      );
    return () => {
      live = false;
    };
  }, [generation]);

  const removeAccess = useCallback(async (clientId: string): Promise<boolean> => {
    setProblem(null);
    try {
      await callApi("DELETE", API_PATHS.approverApp(clientId));
      return true;
    } catch (error) {
      // Removed already (from another phone, say): what the person wanted is done.
      if (error instanceof ApiError && error.code === "NOT_FOUND") return true;
      setProblem(error instanceof ApiError ? error.message : "That did not work; try again.");
      return false;
    } finally {
      setGeneration((value) => value + 1);
    }
  }, []);

  return { apps, problem, removeAccess };
}
