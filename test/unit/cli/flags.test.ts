/** flagProblem: the strict reading of a command line, on the shapes the e2e tests do not reach. */
import type { ArgsDef } from "citty";
import { expect, test } from "bun:test";
import { flagProblem } from "../../../src/cli/flags.ts";

const ARGS: ArgsDef = {
  town: { type: "string", valueHint: "DIR" },
  lines: { type: "string", alias: ["n", "count"], valueHint: "N" },
  follow: { type: "boolean", alias: "f" },
  action: { type: "positional", required: true },
  extra: { type: "positional", required: false },
};
const check = (args: string[], routes = false) => flagProblem(ARGS, args, "gtd x", routes)?.message ?? null;

test("clusters, attached values and long aliases are read as citty reads them", () => {
  for (const ok of [["a", "-n1"], ["a", "-fn1"], ["a", "-fn", "1"], ["a", "--lines=1"], ["a", "--count", "1"], ["a", "b", "--no-follow"], ["-n", "-", "a"]]) {
    expect({ ok, problem: check(ok) }).toEqual({ ok, problem: null });
  }
});

test("each kind of mistake is named", () => {
  expect(check(["a", "-fxn1"])).toBe("unknown option -x for gtd x");
  expect(check(["a", "--constructor"])).toBe("unknown option --constructor for gtd x");
  expect(check(["a", "--__proto__"])).toBe("unknown option --__proto__ for gtd x");
  expect(check(["a", "--no-lines"])).toBe("unknown option --no-lines for gtd x");
  expect(check(["a", "--follow=no"])).toBe('--follow takes no value, got "no"');
  expect(check(["a", "--count"])).toBe("--count needs a number");
  expect(check(["a", "--town", "-f"])).toBe("--town needs a directory");
  expect(check(["a", "b", "c"])).toBe('unexpected argument "c" for gtd x');
  expect(check(["-f"])).toBe("missing ACTION for gtd x");
});

test("help wins over any mistake", () => {
  expect(check(["--bogus", "-h"])).toBeNull();
  expect(check(["-fh"])).toBeNull();
  // After --, "--help" is an argument, not a request for help.
  expect(check(["a", "b", "--", "--help"])).toBe('unexpected argument "--help" for gtd x');
});

test("a routing command checks only its own part: up to the subcommand's name", () => {
  expect(flagProblem({}, ["logs", "--forground"], "gtd", true)).toBeNull();
  expect(flagProblem({}, ["--", "-x"], "gtd", true)).toBeNull();
  expect(flagProblem({}, ["-x", "logs"], "gtd", true)?.message).toBe("unknown option -x for gtd");
});
