import { describe, expect, it } from "vitest";
import { loadRelyingPartyConfig, RelyingPartyConfigError } from "./relying-party.config.js";

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadRelyingPartyConfig(env);
  } catch (error) {
    if (error instanceof RelyingPartyConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected the configuration to be refused");
}

const SECRET = "a-long-enough-secret-for-a-confidential-client-0123456789";

describe("the example app's configuration", () => {
  it("defaults to Countersign on localhost:3000, a public client 'example' on localhost:4000", () => {
    expect(loadRelyingPartyConfig({})).toEqual({
      issuer: "http://localhost:3000/oidc",
      clientId: "example",
      clientSecret: null,
      port: 4000,
      host: "127.0.0.1",
      publicUrl: "http://localhost:4000",
    });
  });

  it("derives the public URL from PORT, and takes every variable when set", () => {
    expect(loadRelyingPartyConfig({ PORT: "4100" }).publicUrl).toBe("http://localhost:4100");
    expect(
      loadRelyingPartyConfig({
        COUNTERSIGN_ISSUER: "https://login.example.com/oidc",
        CLIENT_ID: "notes",
        CLIENT_SECRET: SECRET,
        PORT: "8080",
        HOST: "0.0.0.0",
        PUBLIC_URL: "https://notes.example.com/",
      }),
    ).toEqual({
      issuer: "https://login.example.com/oidc",
      clientId: "notes",
      clientSecret: SECRET,
      port: 8080,
      host: "0.0.0.0",
      publicUrl: "https://notes.example.com",
    });
  });

  it("treats a blank CLIENT_SECRET as unset: a public client", () => {
    expect(loadRelyingPartyConfig({ CLIENT_SECRET: "  " }).clientSecret).toBeNull();
  });

  it("refuses plain http to an issuer or a public URL that is not this machine", () => {
    expect(
      problemsOf({ COUNTERSIGN_ISSUER: "http://login.example.com/oidc", PUBLIC_URL: "http://notes.example.com" }),
    ).toEqual([
      'COUNTERSIGN_ISSUER: expects https (plain http only for localhost, 127.0.0.1 or [::1]), got "http://login.example.com/oidc"',
      'PUBLIC_URL: expects https (plain http only for localhost, 127.0.0.1 or [::1]), got "http://notes.example.com"',
    ]);
    expect(loadRelyingPartyConfig({ COUNTERSIGN_ISSUER: "http://127.0.0.1:3000/oidc" }).issuer).toBe(
      "http://127.0.0.1:3000/oidc",
    );
  });

  it("lists every bad variable at once, each naming what it got and what it expects", () => {
    expect(
      problemsOf({
        COUNTERSIGN_ISSUER: "localhost:3000",
        CLIENT_ID: "no spaces please",
        PORT: "70000",
        PUBLIC_URL: "http://localhost:4000/app",
      }),
    ).toEqual([
      'COUNTERSIGN_ISSUER: expects http or https, got "localhost:3000"',
      'CLIENT_ID: expects 1–100 letters, digits and . _ ~ - only, got "no spaces please"',
      'PORT: expects a port number 1–65535, got "70000"',
      'PUBLIC_URL: expects only scheme, host and port (no path), got "http://localhost:4000/app"',
    ]);
    expect(problemsOf({ COUNTERSIGN_ISSUER: "https://login.example.com/oidc?x=1" })).toEqual([
      'COUNTERSIGN_ISSUER: expects no query (?…) or fragment (#…), got "https://login.example.com/oidc?x=1"',
    ]);
  });

  it("refuses a short CLIENT_SECRET without repeating it", () => {
    const problems = problemsOf({ CLIENT_SECRET: "hunter2-is-short" });
    expect(problems).toEqual([
      "CLIENT_SECRET: expects at least 32 characters (as Countersign's clients file does), or leave it unset",
    ]);
    expect(problems.join("\n")).not.toContain("hunter2");
  });
});
