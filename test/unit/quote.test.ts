import { describe, expect, test } from "bun:test";
import { quote, quoteList, QUOTE_MAX_CHARS } from "../../src/quote.ts";

describe("quote", () => {
  test("a short value is JSON-quoted whole, control characters escaped", () => {
    expect(quote("5x")).toBe('"5x"');
    expect(quote("a\nb\u001b")).toBe('"a\\nb\\u001b"');
    expect(quote(42)).toBe("42");
    expect(quote({ a: [1] })).toBe('{"a":[1]}');
    expect(quote(undefined)).toBe("undefined");
  });

  test("a 30 MB value becomes a prefix and its length", () => {
    const huge = "x".repeat(30_000_000);
    const q = quote(huge);
    expect(q).toBe(`"${"x".repeat(QUOTE_MAX_CHARS)}…" (30000000 chars)`);
    expect(q.length).toBeLessThan(120);
  });

  test("a long structured value is cut the same way", () => {
    const q = quote(Array.from({ length: 10_000 }, (_, i) => i));
    expect(q.length).toBeLessThan(120);
    expect(q).toMatch(/^\[0,1,2,.*… \(\d+ chars\)$/);
  });

  test("exactly at the limit is whole; one more is cut", () => {
    expect(quote("y".repeat(QUOTE_MAX_CHARS))).toBe(JSON.stringify("y".repeat(QUOTE_MAX_CHARS)));
    expect(quote("y".repeat(QUOTE_MAX_CHARS + 1))).toContain(`(${QUOTE_MAX_CHARS + 1} chars)`);
  });
});

describe("quoteList", () => {
  test("five names at most, then a count", () => {
    expect(quoteList(["a", "b"])).toBe('"a", "b"');
    expect(quoteList(["1", "2", "3", "4", "5", "6", "7"])).toBe('"1", "2", "3", "4", "5" and 2 more');
  });
});
