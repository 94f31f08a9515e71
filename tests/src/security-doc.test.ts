import { readFileSync, statSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * SECURITY.md names the test that proves each mitigation as `path/from/repo/root.test.ts` ›
 * "exact test name": the string given to it() or test() in that file. This suite keeps those
 * names true. A Tests entry marked "(pending)" waits for a test being built: it is skipped (its
 * references too) and only counted; "(none)" says plainly that nothing tests the row.
 */

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

interface TestReference {
  path: string;
  name: string;
  /** 1-based line in SECURITY.md, for the message. */
  line: number;
}

interface SecurityDocIndex {
  references: TestReference[];
  /** Tests entries marked "(pending)": skipped, counted. */
  pendingRows: number;
  /** Malformed entries, each naming its line. */
  problems: string[];
}

/** `path` › "name", the name with \" \\ and \| escaped as Markdown tables and quotes need. */
const REFERENCE = /`([^`\n]+)`\s*›\s*"((?:[^"\\\n]|\\.)*)"/g;
/** A list item that lists a row's tests: "- **Tests**: …" (or "- **Tests:** …"). */
const TESTS_ENTRY = /^(\s*)[-*]\s+\*\*Tests?(?::\*\*|\*\*:)/;

interface TestsEntry {
  /** 1-based line of "- **Tests**:". */
  line: number;
  pending: boolean;
  none: boolean;
  named: boolean;
}

/**
 * Which Tests entry each line belongs to: an entry runs from its "- **Tests**:" line over the
 * lines indented deeper than it (sub-items, wrapped text), up to a blank or shallower line.
 */
function testsEntriesOf(lines: string[]): (TestsEntry | null)[] {
  const owners: (TestsEntry | null)[] = [];
  let current: { entry: TestsEntry; indent: number } | null = null;
  for (const [index, text] of lines.entries()) {
    const start = TESTS_ENTRY.exec(text);
    if (start !== null) {
      current = {
        entry: { line: index + 1, pending: false, none: false, named: false },
        indent: start[1]!.length,
      };
    } else if (current !== null && (text.trim() === "" || indentOf(text) <= current.indent)) {
      current = null;
    }
    owners.push(current?.entry ?? null);
    if (current !== null) {
      current.entry.pending ||= text.includes("(pending)");
      current.entry.none ||= text.includes("(none)");
    }
  }
  return owners;
}

/** Finds every test reference in SECURITY.md, and every entry that names none or is garbled. */
function indexSecurityDoc(markdown: string): SecurityDocIndex {
  const lines = markdown.split(/\r?\n/);
  const owners = testsEntriesOf(lines);
  const references: TestReference[] = [];
  const problems: string[] = [];
  lines.forEach((text, index) => {
    const line = index + 1;
    const entry = owners[index] ?? null;
    // A row waiting for its test: counted below, its references not checked yet.
    if (entry?.pending === true) return;
    const found = [...text.matchAll(REFERENCE)];
    for (const match of found) {
      references.push({ path: match[1]!, name: match[2]!.replace(/\\(["\\|])/g, "$1"), line });
    }
    if (entry !== null && found.length > 0) entry.named = true;
    if (text.split("›").length - 1 !== found.length) {
      problems.push(`SECURITY.md:${line}: a › that is not part of a \`path\` › "test name" reference: ${text.trim()}`);
    }
  });
  const entries = [...new Set(owners.filter((entry) => entry !== null))];
  for (const entry of entries) {
    if (!entry.pending && !entry.none && !entry.named) {
      problems.push(
        `SECURITY.md:${entry.line}: this Tests entry names no test; write \`path\` › "test name", (pending) or (none)`,
      );
    }
  }
  problems.sort((a, b) => lineOf(a) - lineOf(b));
  return { references, pendingRows: entries.filter((entry) => entry.pending).length, problems };
}

function lineOf(problem: string): number {
  return Number(/^SECURITY\.md:(\d+):/.exec(problem)?.[1] ?? 0);
}

function indentOf(text: string): number {
  return text.length - text.trimStart().length;
}

/**
 * it( or test(, with modifiers such as .only, .skip or .skipIf(cond), then a string literal:
 * prettier may break the line between the parenthesis and the name.
 */
const TEST_CALL =
  /\b(?:it|test)(?:\s*\.\s*(?:only|skip|todo|fails|concurrent|sequential|skipIf|runIf)(?:\s*\([^()]*\))?)*\s*\(\s*/g;

/** The names given to it() and test() in a test file's source, unescaped. */
function testNamesIn(source: string): Set<string> {
  const names = new Set<string>();
  for (const call of source.matchAll(TEST_CALL)) {
    const literal = stringLiteralAt(source, call.index + call[0].length);
    if (literal !== null) names.add(literal);
  }
  return names;
}

/** The value of the string literal starting at `start`; null for none, or a template with ${}. */
function stringLiteralAt(source: string, start: number): string | null {
  const quote = source[start];
  if (quote !== '"' && quote !== "'" && quote !== "`") return null;
  let body = "";
  for (let at = start + 1; at < source.length; at += 1) {
    const char = source[at]!;
    if (char === "\\") {
      body += source.slice(at, at + 2);
      at += 1;
    } else if (char === quote) {
      return unescapeJs(body);
    } else if (quote === "`" && char === "$" && source[at + 1] === "{") {
      return null;
    } else if (quote !== "`" && char === "\n") {
      return null;
    } else {
      body += char;
    }
  }
  return null;
}

const SIMPLE_ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", b: "\b", f: "\f", v: "\v", 0: "\0" };

function unescapeJs(body: string): string {
  return body.replace(
    /\\(?:u\{([0-9a-fA-F]+)\}|u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|(\r\n|[\s\S]))/g,
    (_match, codePoint?: string, unit?: string, byte?: string, other?: string) => {
      const hex = codePoint ?? unit ?? byte;
      if (hex !== undefined) return String.fromCodePoint(parseInt(hex, 16));
      if (other === "\n" || other === "\r\n" || other === "\r") return "";
      return SIMPLE_ESCAPES[other!] ?? other!;
    },
  );
}

/** Why `reference` does not hold, or null when its file has a test of exactly that name. */
function problemWith(
  reference: TestReference,
  options: { readSource: (path: string) => string | null },
): string | null {
  const where = `SECURITY.md:${reference.line}: \`${reference.path}\` › "${reference.name}"`;
  const source = options.readSource(reference.path);
  if (source === null) return `${where}: no such file`;
  if (!testNamesIn(source).has(reference.name)) return `${where}: the file has no it() or test() of exactly this name`;
  return null;
}

/** A file of this repository, if `path` names one inside it. */
function readRepoFile(path: string): string | null {
  const absolute = resolve(REPO_ROOT, path);
  if (relative(REPO_ROOT, absolute).startsWith("..")) return null;
  try {
    return statSync(absolute).isFile() ? readFileSync(absolute, "utf8") : null;
  } catch {
    return null;
  }
}

describe("SECURITY.md", () => {
  it("names only tests that exist, each by its file and exact name", () => {
    const markdown = readRepoFile("SECURITY.md");
    expect(markdown, "SECURITY.md at the repository root").not.toBeNull();
    const index = indexSecurityDoc(markdown!);
    const problems = [
      ...index.problems,
      ...index.references.map((reference) => problemWith(reference, { readSource: readRepoFile })),
    ]
      .filter((problem) => problem !== null)
      .sort((a, b) => lineOf(a) - lineOf(b));
    const counted = `${index.references.length} references checked, ${index.pendingRows} rows pending`;
    expect(problems, counted).toEqual([]);
    // A parser that found nothing would pass everything: the document does name tests.
    expect(index.references.length).toBeGreaterThan(0);
  });
});

describe("the SECURITY.md reference checker", () => {
  const sources: Record<string, string> = {
    "tests/a.test.ts": [
      'describe("a group", () => {',
      '  it("refuses a wrong token", () => {});',
      "  it(",
      '    "a name prettier moved to the next line because it is long",',
      "    async () => {},",
      "  );",
      "  test('single quotes, with an escaped \\'quote\\'', () => {});",
      "  it.skipIf(!redis)(`a backtick name`, () => {});",
      "  it(`interpolated ${count} times`, () => {});",
      "});",
    ].join("\n"),
  };
  const readSource = (path: string): string | null => sources[path] ?? null;
  const check = (path: string, name: string): string | null => problemWith({ path, name, line: 1 }, { readSource });

  it("finds names after it( and test(, across a line break, in all three quote styles", () => {
    expect(check("tests/a.test.ts", "refuses a wrong token")).toBeNull();
    expect(check("tests/a.test.ts", "a name prettier moved to the next line because it is long")).toBeNull();
    expect(check("tests/a.test.ts", "single quotes, with an escaped 'quote'")).toBeNull();
    expect(check("tests/a.test.ts", "a backtick name")).toBeNull();
  });

  it("refuses a missing file, a describe() name, a prefix of a name, and an interpolated name", () => {
    expect(check("tests/gone.test.ts", "refuses a wrong token")).toMatch(/no such file/);
    expect(check("tests/a.test.ts", "a group")).toMatch(/no it\(\) or test\(\) of exactly this name/);
    expect(check("tests/a.test.ts", "refuses a wrong")).toMatch(/exactly this name/);
    expect(check("tests/a.test.ts", "interpolated ${count} times")).toMatch(/exactly this name/);
  });

  it("reads references with their line, skips and counts (pending) entries, and reports garbled ones", () => {
    const index = indexSecurityDoc(
      [
        "### §6.1.2 Short-Lived/Timebound QR or User Codes",
        "",
        '- **Tests:** `tests/a.test.ts` › "refuses a wrong token"; `tests/b.test.ts` › "say \\"hi\\" \\| there"',
        "- **Tests**: (pending)",
        "- **Tests:**",
        '  - `tests/c.test.ts` › "not written yet" (pending)',
        "- **Tests:** (none): nothing to test",
        "- **Tests:** `tests/a.test.ts` › “curly quotes”",
        "- **Tests:** none",
      ].join("\n"),
    );
    expect(index.references).toEqual([
      { path: "tests/a.test.ts", name: "refuses a wrong token", line: 3 },
      { path: "tests/b.test.ts", name: 'say "hi" | there', line: 3 },
    ]);
    expect(index.pendingRows).toBe(2);
    expect(index.problems).toEqual([
      expect.stringMatching(/^SECURITY\.md:8: a › that is not part of/),
      expect.stringMatching(/^SECURITY\.md:8: this Tests entry names no test/),
      expect.stringMatching(/^SECURITY\.md:9: this Tests entry names no test/),
    ]);
  });
});
