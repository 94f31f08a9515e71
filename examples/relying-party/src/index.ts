export {
  createRelyingParty,
  SESSION_COOKIE,
  type RelyingParty,
  type RelyingPartyOptions,
} from "./relying-party.app.js";
export { loadRelyingPartyConfig, RelyingPartyConfigError, type RelyingPartyConfig } from "./relying-party.config.js";
export {
  createBrowserSessions,
  type BrowserSessions,
  type BrowserSessionsOptions,
  type PendingSignIn,
  type SignedInPerson,
} from "./relying-party.sessions.js";
