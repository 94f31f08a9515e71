import { createRelyingParty } from "./relying-party.app.js";
import { loadRelyingPartyConfig, RelyingPartyConfigError, type RelyingPartyConfig } from "./relying-party.config.js";

/** The one place that reads the environment (see README.md beside this folder). */
async function main(): Promise<void> {
  let config: RelyingPartyConfig;
  try {
    config = loadRelyingPartyConfig(process.env);
  } catch (error) {
    if (!(error instanceof RelyingPartyConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const say = (line: string): void => void process.stderr.write(`${line}\n`);
  let relyingParty;
  try {
    relyingParty = await createRelyingParty({ ...config, log: say });
  } catch (error) {
    say(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
  await relyingParty.listen();
  const kind = config.clientSecret === null ? "a public client (PKCE only)" : "a confidential client";
  say(
    `The example app is up: open ${config.publicUrl} (client "${config.clientId}", ${kind}, issuer ${config.issuer})`,
  );

  const stop = (): void => {
    void relyingParty.close().finally(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

await main();
