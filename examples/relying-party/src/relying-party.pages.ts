import type { SignedInPerson } from "./relying-party.sessions.js";

/** The app's stylesheet, served as /style.css: the pages carry no inline style or script. */
export const STYLESHEET = `
:root { color-scheme: light dark; font-family: system-ui, sans-serif; line-height: 1.5; }
body { max-width: 36rem; margin: 3rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; }
dt { font-weight: 600; }
dd { margin: 0; overflow-wrap: anywhere; }
.button { display: inline-block; padding: 0.6rem 1.2rem; border: 0; border-radius: 0.4rem; font: inherit;
  background: #1d4ed8; color: #fff; text-decoration: none; cursor: pointer; }
.note { color: GrayText; font-size: 0.9rem; }
`;

/** The home page: who is signed in, or the button to sign in. */
export function homePage(options: { appName: string; person: SignedInPerson | null }): string {
  const { appName, person } = options;
  if (person === null) {
    return page({
      title: appName,
      body: `<h1>${escapeHtml(appName)}</h1>
<p>You are not signed in.</p>
<p><a class="button" href="/login">Sign in with Countersign</a></p>
<p class="note">You will scan a QR code with your phone and approve with its passkey.</p>`,
    });
  }
  const who = person.name ?? person.preferredUsername ?? person.sub;
  const authTime = person.authTime === null ? null : new Date(person.authTime * 1000).toISOString();
  const rows: [string, string | null][] = [
    ["name", person.name],
    ["preferred_username", person.preferredUsername],
    ["sub", person.sub],
    ["acr", person.acr],
    ["amr", person.amr.length === 0 ? null : person.amr.join(", ")],
    ["auth_time", authTime],
  ];
  return page({
    title: `${appName}: signed in`,
    body: `<h1>Signed in as ${escapeHtml(who)}</h1>
<dl aria-label="Who you are">
${rows.map(([term, value]) => `<dt>${term}</dt><dd>${value === null ? "<em>not given</em>" : escapeHtml(value)}</dd>`).join("\n")}
</dl>
<form method="post" action="/logout"><button class="button" type="submit">Sign out</button></form>`,
  });
}

/** A sign-in that did not complete, with the way back. */
export function problemPage(options: { appName: string; title: string; message: string }): string {
  return page({
    title: `${options.appName}: ${options.title}`,
    body: `<h1>${escapeHtml(options.title)}</h1>
<p>${escapeHtml(options.message)}</p>
<p><a class="button" href="/">Back to ${escapeHtml(options.appName)}</a></p>`,
  });
}

function page(options: { title: string; body: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
${options.body}
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
