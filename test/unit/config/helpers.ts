/**
 * Shared setup for the config tests: a fresh town per test (useConfigTown), a config.json writer, the
 * layered loader with env and flags, and the CONFIG GtdError a bad value throws.
 */
import { afterEach, beforeEach, expect } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../../src/config/index.ts";
import type { SettingKey } from "../../../src/config/settings.ts";
import { GtdError } from "../../../src/errors.ts";
import { townPaths, type TownPaths } from "../../../src/town.ts";

export const MIN = 60_000;

/** The current test's town (set by the beforeEach that useConfigTown registers). */
export let paths: TownPaths;

/** Registers, for the calling file, a beforeEach that makes a fresh town with its daemon dir and an afterEach that removes it. */
export function useConfigTown(): void {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "gtd-config-"));
    paths = townPaths(root);
    mkdirSync(paths.daemonDir, { recursive: true });
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });
}

export function writeConfig(content: unknown): void {
  writeFileSync(paths.configFile, typeof content === "string" ? content : JSON.stringify(content));
}

export function load(env: Record<string, string | undefined> = {}, flags: Partial<Record<SettingKey, string>> = {}) {
  return loadConfig({ configFile: paths.configFile, env, flags });
}

/** The GtdError a call throws; fails the test when it throws something else or nothing. */
export function configError(fn: () => unknown): GtdError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(GtdError);
  const err = caught as GtdError;
  expect(err.code).toBe("CONFIG");
  expect(err.exitCode).toBe(1);
  return err;
}

export async function asyncConfigError(fn: () => Promise<unknown>): Promise<GtdError> {
  let caught: unknown;
  try {
    await fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(GtdError);
  const err = caught as GtdError;
  expect(err.code).toBe("CONFIG");
  return err;
}
