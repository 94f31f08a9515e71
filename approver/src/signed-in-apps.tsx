import { useEffect, useRef, useState } from "react";
import { OIDC_SCOPE_WORDS, type OidcAppView } from "@countersign/shared";
import { useSignedInApps } from "./use-signed-in-apps.js";

/**
 * "Apps you signed in to": each app with what it can see, and "Remove access" behind a
 * confirmation that says what follows. Hidden while no app has access (always, where this
 * server signs no apps in), but kept once the person has removed one, to say it is done.
 */
export function SignedInApps(): React.JSX.Element | null {
  const { apps, problem, removeAccess } = useSignedInApps();
  const [confirming, setConfirming] = useState<string | null>(null);
  /** The app whose "Remove access" gets the focus back after a cancelled confirmation. */
  const [returnTo, setReturnTo] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<string | null>(null);
  const outcomeRef = useRef<HTMLParagraphElement>(null);

  useEffect(() => {
    if (outcome !== null) outcomeRef.current?.focus();
  }, [outcome]);

  if (problem === null && outcome === null && (apps === null || apps.length === 0)) return null;

  const remove = (app: OidcAppView): void => {
    setBusy(true);
    void removeAccess(app.clientId).then((removed) => {
      setBusy(false);
      setConfirming(null);
      if (removed) setOutcome(`${app.name} no longer has access to your account.`);
    });
  };

  return (
    <section aria-labelledby="apps-title">
      <h2 id="apps-title">Apps you signed in to</h2>
      {outcome !== null && (
        <p role="status" tabIndex={-1} ref={outcomeRef}>
          {outcome}
        </p>
      )}
      {problem !== null && <p role="alert">{problem}</p>}
      {apps?.length === 0 && <p>No apps have access to your account.</p>}
      {apps !== null && apps.length > 0 && (
        <ul className="apps">
          {apps.map((app) => (
            <li key={app.clientId}>
              <AppDetails app={app} />
              {confirming === app.clientId ? (
                <ConfirmRemoval
                  app={app}
                  busy={busy}
                  onConfirm={() => remove(app)}
                  onCancel={() => {
                    setConfirming(null);
                    setReturnTo(app.clientId);
                  }}
                />
              ) : (
                <button
                  className="secondary"
                  aria-label={`Remove access for ${app.name}`}
                  // Back from a cancelled confirmation, the focus returns where it was.
                  autoFocus={returnTo === app.clientId}
                  onClick={() => {
                    setOutcome(null);
                    setConfirming(app.clientId);
                  }}
                >
                  Remove access
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function AppDetails(props: { app: OidcAppView }): React.JSX.Element {
  const { app } = props;
  const granted = new Date(app.grantedAt);
  return (
    <div>
      <p>
        <strong>{app.name}</strong>{" "}
        <span className="muted" title={granted.toLocaleString()}>
          · since {granted.toLocaleDateString()}
        </span>
      </p>
      <p className="muted">It can:</p>
      <ul className="scopes">
        {app.scopes.map((scope) => (
          <li key={scope}>{OIDC_SCOPE_WORDS[scope] ?? scope}</li>
        ))}
      </ul>
      {app.clientUri !== null && (
        <p>
          <a href={app.clientUri} rel="noreferrer noopener">
            About {app.name}
          </a>
        </p>
      )}
    </div>
  );
}

/** Says what removing does, then the decision: danger first, the quiet way out under it. */
function ConfirmRemoval(props: {
  app: OidcAppView;
  busy: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}): React.JSX.Element {
  const { app } = props;
  const titleRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => titleRef.current?.focus(), []);
  const titleId = `remove-${app.clientId}-title`;
  return (
    <div className="confirm" role="group" aria-labelledby={titleId}>
      <h3 id={titleId} tabIndex={-1} ref={titleRef}>
        Remove access for {app.name}?
      </h3>
      <p>{app.name} will need you to approve again next time; it is signed out of your account.</p>
      <div className="stack">
        <button className="danger" onClick={props.onConfirm} disabled={props.busy}>
          <svg aria-hidden="true" viewBox="0 0 16 16" width="16" height="16" className="icon">
            <circle cx="8" cy="8" r="6.5" fill="none" stroke="currentColor" strokeWidth="1.5" />
            <path d="M5 8h6" stroke="currentColor" strokeWidth="1.5" />
          </svg>
          Remove access
        </button>
        <button className="quiet" onClick={props.onCancel} disabled={props.busy}>
          Keep access
        </button>
      </div>
    </div>
  );
}
