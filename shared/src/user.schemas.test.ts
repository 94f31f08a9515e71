import { describe, expect, it } from "vitest";
import { userCodeSchema } from "./login-request.schemas.js";
import { displayNameSchema, usernameSchema } from "./user.schemas.js";
import { approverLoginUrl, parseApproverLoginFragment } from "./api-paths.js";

describe("usernameSchema", () => {
  it("folds case, width and surrounding space into one account name", () => {
    expect(usernameSchema.parse("  Ana ")).toBe("ana");
    expect(usernameSchema.parse("ＡＮＡ")).toBe("ana");
    expect(usernameSchema.parse("Zoë")).toBe("zoë");
  });

  it("refuses empty, spaced and control-character names", () => {
    for (const bad of ["", "   ", "a b", "a\u0000b", "a/b", "x".repeat(65)]) {
      expect(usernameSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});

describe("displayNameSchema", () => {
  it("keeps spaces inside a name but refuses invisible and control characters", () => {
    expect(displayNameSchema.parse(" Ana Silva ")).toBe("Ana Silva");
    expect(displayNameSchema.safeParse("Ana\u202eSilva").success).toBe(false);
    expect(displayNameSchema.safeParse("Ana\nSilva").success).toBe(false);
  });
});

describe("userCodeSchema", () => {
  it("accepts what a person types: lower case, spaces, a dash", () => {
    expect(userCodeSchema.parse("abcd-efgh")).toBe("ABCDEFGH");
    expect(userCodeSchema.parse(" ab cd ef gh ")).toBe("ABCDEFGH");
  });

  it("refuses codes of the wrong length or with characters no code uses", () => {
    expect(userCodeSchema.safeParse("ABCDEFG").success).toBe(false);
    expect(userCodeSchema.safeParse("ABCDEFG0").success).toBe(false);
    expect(userCodeSchema.safeParse("ABCDEFGI").success).toBe(false);
  });
});

describe("approver login URLs", () => {
  it("round-trips the id and QR token through the fragment", () => {
    const url = approverLoginUrl({ origin: "https://x.test", id: "abc_-1", qrToken: "tok" });
    expect(url).toBe("https://x.test/approve/#/r/abc_-1.tok");
    expect(parseApproverLoginFragment(new URL(url).hash)).toEqual({ id: "abc_-1", qrToken: "tok" });
    expect(parseApproverLoginFragment("#/r/onlyid")).toBeNull();
  });
});

describe("API_PATHS", () => {
  it("encodes ids but leaves Express route parameters usable as patterns", async () => {
    const { API_PATHS } = await import("./api-paths.js");
    expect(API_PATHS.loginRedeem(":id")).toBe("/api/logins/:id/redeem");
    expect(API_PATHS.loginRedeem("a/b")).toBe("/api/logins/a%2Fb/redeem");
  });
});
