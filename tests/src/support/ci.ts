/**
 * Whether this run is CI, where a suite that cannot run must fail instead of skipping. CI
 * services set CI to "true", "1" or their own name, so any non-empty value counts except
 * "false" and "0" (the ways people switch it off locally).
 */
export function isCi(): boolean {
  const value = (process.env.CI ?? "").trim().toLowerCase();
  return value !== "" && value !== "false" && value !== "0";
}
